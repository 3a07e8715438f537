"""Paper A: entanglement distribution by an inept delivery service (mix-up)."""
