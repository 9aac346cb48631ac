"""Parts of the exercise sets' judges, split out of ``fapi_lab/_exercise_sets/exN.py`` to keep modules small.

They live apart from ``_exercise_sets`` because the registry imports every module of that package as a set.
Each module here holds one concept (a group of tasks' judges, or helpers shared by them); the set module keeps
the ``EXERCISES`` list with the ids, titles and hints.
"""
