"""The exercises: the format of a task, running and judging answers, every task (tasks/), and `make exercises`."""
