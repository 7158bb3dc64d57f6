"""unspun: was this news article machine-written, what was it spun from, and what was made up?"""

__version__ = "0.1.0"
