"""TOTP verification with Entra's drift windows, on top of pyotp's code generation.

pyotp generates codes (RFC 4226/6238) and secrets; `verify()` there checks one step only. The windows, the
stored drift and replay protection are ours. The search precomputes the HMAC key schedule once and compares
integers, so the widest window (±2 days at 60 s: 5,761 steps) costs a few milliseconds.
"""

import base64
import binascii
import hashlib
import hmac
import re
import struct
from dataclasses import dataclass

import pyotp

DIGITS = 6
HASHES = {"hmacsha1": hashlib.sha1, "hmacsha256": hashlib.sha256}
BASE32 = re.compile(r"^[A-Za-z2-7]+=*$")
MAX_SECRET_LENGTH = 128

# (interval seconds) -> (activation window, sign-in window), in seconds either side
WINDOWS = {30: (24 * 3600, 60), 60: (2 * 24 * 3600, 120)}


def new_secret() -> str:
    """A 160-bit Base32 secret (32 characters)."""
    return pyotp.random_base32(32)


def secret_problem(secret) -> str | None:
    """Why a hardware token secret is not acceptable, naming the rule; None when it is."""
    if not isinstance(secret, str) or not secret:
        return "The secret key is required."
    if len(secret) > MAX_SECRET_LENGTH:
        return f"The secret key must be at most {MAX_SECRET_LENGTH} characters."
    if not BASE32.match(secret):
        return "The secret key must be Base32: letters a-z or A-Z and digits 2-7."
    try:
        decode_secret(secret)
    except (binascii.Error, ValueError):
        return "The secret key must be Base32: letters a-z or A-Z and digits 2-7."
    return None


def decode_secret(secret: str) -> bytes:
    text = secret.upper().rstrip("=")
    return base64.b32decode(text + "=" * (-len(text) % 8))


def step_of(timestamp: int, interval: int) -> int:
    return timestamp // interval


def code_at(secret: str, step: int, hash_function: str = "hmacsha1") -> str:
    """The code of one time step, by pyotp (the reference the search must agree with)."""
    return pyotp.HOTP(secret.upper(), digits=DIGITS, digest=HASHES[hash_function]).at(step)


@dataclass
class Match:
    step: int
    drift: int  # in steps, relative to the current step


class Searcher:
    """Finds the time step a code belongs to within a window, nearest steps first."""

    def __init__(self, secret: str, hash_function: str):
        self._mac = hmac.new(decode_secret(secret), digestmod=HASHES[hash_function])

    def code(self, step: int) -> int:
        mac = self._mac.copy()
        mac.update(struct.pack(">Q", step))
        digest = mac.digest()
        offset = digest[-1] & 0x0F
        value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
        return value % 10**DIGITS

    def find(self, code: str, center: int, radius: int, after: int | None = None) -> Match | None:
        """The step nearest `center` (±`radius` steps) whose code is `code`; steps <= `after` never match
        (replay protection)."""
        if not (isinstance(code, str) and len(code) == DIGITS and code.isascii() and code.isdigit()):
            return None
        wanted = int(code)
        for distance in range(radius + 1):
            for step in (center,) if distance == 0 else (center - distance, center + distance):
                if step < 0 or (after is not None and step <= after):
                    continue
                if self.code(step) == wanted:
                    return Match(step, step - center)
        return None


def activation_radius(interval: int) -> int:
    return WINDOWS[interval][0] // interval


def signin_radius(interval: int) -> int:
    return WINDOWS[interval][1] // interval
