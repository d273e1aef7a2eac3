"""Password hashing with Argon2id (memory-hard); cost from config."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app

_hashers: dict[tuple[int, int, int], PasswordHasher] = {}


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    params = (cfg["IDP_ARGON2_TIME_COST"], cfg["IDP_ARGON2_MEMORY_KIB"], cfg["IDP_ARGON2_PARALLELISM"])
    if params not in _hashers:
        _hashers[params] = PasswordHasher(time_cost=params[0], memory_cost=params[1], parallelism=params[2])
    return _hashers[params]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the user exists: an absent hash is checked against a dummy one."""
    hasher = _hasher()
    try:
        return hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher().check_needs_rehash(stored_hash)


_dummy: dict[tuple[int, int, int], str] = {}


def _dummy_hash() -> str:
    hasher = _hasher()
    key = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if key not in _dummy:
        _dummy[key] = hasher.hash("dummy password for absent users")
    return _dummy[key]


def meets_complexity(password: object) -> bool:
    """Entra's cloud password rule: 8 to 256 characters, and three of lower case, upper case, digits, symbols."""
    if not isinstance(password, str) or not 8 <= len(password) <= 256:
        return False
    kinds = [
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    ]
    return sum(kinds) >= 3


def generate() -> str:
    """A password for an administrator's reset without one: 16 characters of all four kinds, random."""
    import secrets

    kinds = ["ABCDEFGHJKLMNPQRSTUVWXYZ", "abcdefghijkmnopqrstuvwxyz", "23456789", "!#$%&*+-=?@"]
    chosen = [secrets.choice(kind) for kind in kinds] + [secrets.choice("".join(kinds)) for _ in range(12)]
    secrets.SystemRandom().shuffle(chosen)
    return "".join(chosen)
