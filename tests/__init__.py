import os

# Rich fixes a console's width when it is made if COLUMNS is set (pytest-xdist's workers
# have it); without it, each in-process command line call follows the COLUMNS it is given.
os.environ.pop("COLUMNS", None)
