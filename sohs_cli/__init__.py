"""sohs: validate, sign and submit Vietnamese health records to the national receiving systems."""

__version__ = "0.1.0"
