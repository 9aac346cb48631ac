"""The exercise sets, one module per block of lessons (``ex1`` … ``ex6``), each with a list ``EXERCISES``.

Judges describe what a correct answer does (shapes, connections, shared weights, parameter counts, a forward
pass, a short fit); they never contain the answer's code. Solutions are notebooks in ``solutions/exercises``.
"""
