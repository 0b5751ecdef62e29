import hashlib
import hmac
import time


def verify(body: bytes, header: str, secrets: list[str], tolerance: int = 300) -> bool:
    """True when the Creditline-Signature header signs this raw body, recently."""
    fields = [part.split("=", 1) for part in header.split(",") if "=" in part]
    t = next((value for key, value in fields if key == "t"), "")
    signed = f"{t}.".encode() + body
    expected = [hmac.new(s.encode(), signed, hashlib.sha256).hexdigest() for s in secrets]
    fresh = t.isdigit() and abs(time.time() - int(t)) <= tolerance
    sent = [value for key, value in fields if key == "v1"]
    return fresh and any(hmac.compare_digest(v, e) for v in sent for e in expected)
