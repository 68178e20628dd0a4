"""German wording for the technical problem texts the probes write in English.

Probes describe what went wrong while it happens ("no reply within 5 s", "connection reset by
the server"), often with values from the network glued on. Those texts are stored in English
in runs and transcripts, because they are evidence: they must read the same in every export
and they are what an admin pastes into a search engine. A German report still should not
switch language in the middle of a sentence, so when a reason is rendered in German the
known phrases are replaced here, leaving the values (and anything unknown) as they were.

The table is matched at the start of the text and applied repeatedly, so a composed text
such as ``"STARTTLS: connection closed by the server"`` becomes
``"STARTTLS: Verbindung vom Server geschlossen"``. Protocol words (STARTTLS, EHLO, CAPA)
stay as they are; they are the names admins know.
"""

from __future__ import annotations

import re

#: (English pattern, German template). Patterns are anchored where they are used; groups are
#: referenced as ``\1`` in the template. Order matters only where one pattern is a prefix of another.
_PHRASES: tuple[tuple[str, str], ...] = (
    (r"no answer to the connection attempt within (\S+) s",
     r"keine Antwort auf den Verbindungsaufbau innerhalb von \1 s"),
    (r"connection timed out: ", "Zeitüberschreitung beim Verbindungsaufbau: "),
    (r"connection failed: ", "Verbindung gescheitert: "),
    (r"unreachable: ", "nicht erreichbar: "),
    (r"connection refused", "Verbindung abgewiesen"),
    (r"connection reset during connect \(the port is not closed\)",
     "Verbindung beim Aufbau zurückgesetzt (der Port ist nicht geschlossen)"),
    (r"(\S+): no answer within (\S+) s", r"\1: keine Antwort innerhalb von \2 s"),
    (r"connection reset by the server", "Verbindung vom Server zurückgesetzt"),
    (r"connection closed by the server", "Verbindung vom Server geschlossen"),
    (r"connection lost while sending: ", "Verbindung beim Senden verloren: "),
    (r"read failed: ", "Lesen gescheitert: "),
    (r"incomplete reply: no final line within (\S+) s",
     r"unvollständige Antwort: keine Schlusszeile innerhalb von \1 s"),
    (r"incomplete line without CRLF after (\S+) s: ", r"unvollständige Zeile ohne CRLF nach \1 s: "),
    (r"no reply within (\S+) s", r"keine Antwort innerhalb von \1 s"),
    (r"reply longer than (\d+) lines", r"Antwort länger als \1 Zeilen"),
    (r"line longer than (\d+) bytes without CRLF", r"Zeile länger als \1 Byte ohne CRLF"),
    (r"binary data instead of a text reply: ", "Binärdaten statt einer Textantwort: "),
    (r"the server did not take our data within (\S+) s",
     r"der Server hat unsere Daten nicht innerhalb von \1 s angenommen"),
    (r"probe did not finish within (\S+) s \(while ([^)]*)\)",
     r"Prüfung nicht innerhalb von \1 s beendet (Schritt: \2)"),
    (r"timeout while ", "Zeitüberschreitung bei: "),
    (r"internal error while ", "interner Fehler bei: "),
    (r"certificate verification failed: ", "Zertifikatsprüfung gescheitert: "),
    (r"certificate not read: ", "Zertifikat nicht gelesen: "),
    (r"the certificate could not be parsed: ", "das Zertifikat ließ sich nicht auswerten: "),
    (r"the server sent no certificate", "der Server hat kein Zertifikat gesendet"),
    (r"chain not validated", "Zertifikatskette nicht geprüft"),
    (r"not tried: the TLS handshake timed out", "nicht versucht: der TLS-Handshake lief in eine Zeitüberschreitung"),
    (r"the legacy handshakes did not finish within the probe's time budget",
     "die Handshakes mit alten Protokollen wurden im Zeitbudget der Prüfung nicht fertig"),
    (r"the local TLS library \(([^)]*)\) cannot offer (\S+), so it could not be tested",
     r"die lokale TLS-Bibliothek (\1) kann \2 nicht anbieten, daher nicht prüfbar"),
    (r"no relay probe", "kein Relay-Test gelaufen"),
    (r"login not attempted", "Anmeldung nicht versucht"),
    (r"not tested: no TLS session, and credentials are never sent without TLS",
     "nicht geprüft: keine TLS-Sitzung, und Zugangsdaten werden nie ohne TLS gesendet"),
    (r"not tested: the certificate chain is not valid, and credentials are only sent to a verified server "
     r"\(a private CA can be given with --ca-file\)",
     "nicht geprüft: die Zertifikatskette ist nicht gültig, und Zugangsdaten gehen nur an einen geprüften "
     "Server (eine eigene CA kann mit --ca-file angegeben werden)"),
    (r"not tested: the certificate does not match (\S+), credentials withheld",
     r"nicht geprüft: das Zertifikat passt nicht zu \1, Zugangsdaten nicht gesendet"),
    (r"not tested: the host is outside the audited domain and the user did not confirm it for the login "
     r"\(--trust-host\), so the test account's password was not sent to it",
     "nicht geprüft: der Host liegt außerhalb der geprüften Domain und wurde für die Anmeldung nicht "
     "bestätigt (--trust-host), daher ging das Passwort des Testkontos nicht an ihn"),
    (r"the trust anchors could not be loaded: ", "die Vertrauensanker ließen sich nicht laden: "),
    (r"greeting: ", "Begrüßung: "),
    (r"connecting", "Verbindungsaufbau"),
)

#: The kinds of internal address :mod:`auditapp.collectors.netguard` names, in German.
_INTERNAL_KINDS = {
    "unspecified": "eine unspezifizierte", "loopback": "eine Loopback-", "link-local": "eine Link-local-",
    "private (RFC 1918)": "eine private (RFC 1918)", "shared (CGNAT, RFC 6598)": "eine geteilte (CGNAT, RFC 6598)",
    "unique local (RFC 4193)": "eine eindeutig lokale (RFC 4193)",
}
_PHRASES += tuple(
    (rf"(\S+) is an? {re.escape(kind)} address learned from DNS; internal addresses are probed only "
     r"for hosts you entered or in an internal audit \(--allow-internal\)",
     rf"\1 ist {german}{'' if german.endswith('-') else ' '}Adresse aus DNS; interne Adressen "
     r"werden nur für selbst eingetragene Hosts oder in einer internen Prüfung (--allow-internal) geprüft")
    for kind, german in _INTERNAL_KINDS.items()
)
_PHRASES += ((r"not probed: ", "nicht geprüft: "),
             (r"connection to (\S+) blocked: AUDITAPP_LOOPBACK_ONLY allows loopback only",
              r"Verbindung zu \1 gesperrt: AUDITAPP_LOOPBACK_ONLY erlaubt nur Loopback"),)

_COMPILED = tuple((re.compile(pattern), template) for pattern, template in _PHRASES)
#: A protocol word prefix ("STARTTLS: ", "EHLO after STARTTLS: ") that is kept and skipped over.
_PREFIX = re.compile(r"[A-Z][A-Z0-9 ]*(?: after [A-Z0-9]+)?: ")


def localize_problem(text: str, lang: str) -> str:
    """``text`` in ``lang``: German replaces known leading phrases; English and unknown text pass."""
    if lang != "de" or not text:
        return text
    out: list[str] = []
    rest = text
    for _ in range(4):  # "STARTTLS: greeting: no reply within 5 s" has at most a few layers
        prefix = _PREFIX.match(rest)
        if prefix:
            out.append(prefix.group(0))
            rest = rest[prefix.end():]
            continue
        for pattern, template in _COMPILED:
            m = pattern.match(rest)
            if m:
                out.append(m.expand(template))
                rest = rest[m.end():]
                break
        else:
            break
        if not rest:
            break
    return "".join(out) + rest
