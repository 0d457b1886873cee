"""The pure dossier domain: states, commands, events, `decide` and `evolve`, the working-day
clock and the procedure catalog types. No I/O, no clock, nothing of ours imported."""
