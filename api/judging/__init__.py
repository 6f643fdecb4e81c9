"""The front's side of the judge workers: Judge0's callbacks, and which languages they can run."""
