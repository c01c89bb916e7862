"""Names the kernel manager and the in-kernel runner share (no imports: safe on both sides)."""

MIME = "application/vnd.paddleport.equiv+json"
MODULE_NAME = "__paddleport_equiv__"
