"""What a time-stamping authority's failure is called, in a leaf module: the signer raises it
(``signing.sign_pdf``) and the TSAs' module (``timestamps``, which builds on the signer's
development PKI) names it, so neither imports the other for it."""


class TimestampUnavailable(OSError):
    """The time-stamping authority did not give a token (down, slow, refused)."""
