"""custml: customer analytics from raw records to scores and a management report."""

__version__ = "0.1.0"
