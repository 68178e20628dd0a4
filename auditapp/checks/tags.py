"""Tag-list parsing shared by DKIM key records, DMARC and the other ``tag=value;`` formats."""

from __future__ import annotations

import base64


class TagError(ValueError):
    pass


def parse_tags(text: str) -> dict[str, str]:
    """Parse ``a=1; b=2`` (RFC 6376 §3.2 tag-list); duplicate tags are an error.

    Longer than a DNS message (65,535 bytes) it did not come from DNS: refused unparsed.
    """
    if len(text) > 65535:
        raise TagError(f"{len(text)} characters: longer than one DNS answer can carry")
    tags: dict[str, str] = {}
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        if "=" not in part:
            raise TagError(f"'{part}' is not a tag=value pair")
        name, _, value = part.partition("=")
        name = name.strip()
        if not name or not name.replace("_", "").isalnum():
            raise TagError(f"invalid tag name {name!r}")
        if name in tags:
            raise TagError(f"tag {name!r} appears twice")
        tags[name] = value.strip()
    return tags


def rsa_key_bits(p_value: str) -> int:
    """Modulus length of a DKIM ``p=`` value (SubjectPublicKeyInfo or bare RSAPublicKey, base64 DER).

    A twenty-line DER walk instead of a crypto dependency: we only need the length of one
    INTEGER, not to use the key.
    """
    try:
        der = base64.b64decode("".join(p_value.split()), validate=True)
    except ValueError as exc:
        raise TagError(f"p= is not valid base64: {exc}") from None

    def read(buf: bytes, pos: int) -> tuple[int, int, int]:
        if pos + 2 > len(buf):
            raise TagError("truncated key")
        tag = buf[pos]
        length = buf[pos + 1]
        pos += 2
        if length & 0x80:
            n = length & 0x7F
            if n == 0 or n > 4 or pos + n > len(buf):
                raise TagError("bad DER length")
            length = int.from_bytes(buf[pos:pos + n], "big")
            pos += n
        if pos + length > len(buf):
            raise TagError("truncated key")
        return tag, pos, length

    tag, pos, _ = read(der, 0)
    if tag != 0x30:
        raise TagError("key is not a DER SEQUENCE")
    inner_tag, ipos, ilen = read(der, pos)
    if inner_tag == 0x30:  # SubjectPublicKeyInfo: AlgorithmIdentifier, then BIT STRING
        btag, bpos, blen = read(der, ipos + ilen)
        if btag != 0x03:
            raise TagError("no BIT STRING in key")
        rsa = der[bpos + 1:bpos + blen]  # skip the unused-bits octet
        stag, spos, _ = read(rsa, 0)
        if stag != 0x30:
            raise TagError("RSA key is not a SEQUENCE")
        ntag, npos, nlen = read(rsa, spos)
        modulus = rsa[npos:npos + nlen]
    elif inner_tag == 0x02:  # bare RSAPublicKey
        modulus = der[ipos:ipos + ilen]
        ntag = inner_tag
    else:
        raise TagError("unknown key structure")
    if ntag != 0x02:
        raise TagError("no modulus INTEGER in key")
    modulus = modulus.lstrip(b"\x00")
    return len(modulus) * 8 - (8 - modulus[0].bit_length()) if modulus else 0
