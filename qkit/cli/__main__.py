from qkit.cli import console

console()
