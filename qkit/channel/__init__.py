"""Paper B: classical communication over a channel with correlated polarization noise."""
