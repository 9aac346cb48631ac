"""The student exercise notebooks are handed out without outputs, so nbval cannot compare them; they are
checked by tests/test_exercises.py instead (up to date with the solutions, and every check says "not answered
yet" until the student writes an answer)."""

collect_ignore_glob = ["exercises/*", "*/exercises/*"]
