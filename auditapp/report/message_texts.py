"""The German and English texts of the report's "Message evidence" section and of learned values.

Why here and not in ``reports/boilerplate/report.toml``: the section came with issue 15 while
that file was being edited elsewhere; the texts are kept in the same shape (``{de, en}`` per
key, the same placeholders in both) and are checked by the same validator
(:func:`auditapp.report.texts._collect`) when first used, so moving them into report.toml later
is a copy without a change of meaning. Every key starts with ``messages.`` and must not exist in
report.toml (:func:`with_message_texts` refuses a clash rather than silently overriding).
"""

from __future__ import annotations

from functools import cache

from auditapp.report.texts import ReportTextError, ReportTexts, _collect

_TEXTS: dict[str, dict[str, dict[str, str]]] = {"messages": {
    "section": {"de": "Belege aus empfangenen Mails", "en": "Message evidence"},
    "intro": {
        "de": "Für jede Mail, die dieser Prüfung als Beleg diente, zeigt dieser Abschnitt ihren Weg über die "
              "Server (Hops) und die Prüfung von DKIM, ARC, SPF und DMARC neben dem Urteil des empfangenden "
              "Servers. Die Ergebnisse stammen vom Import der Mail; bewertet werden sie in den Befunden MSG-*. "
              "E-Mail-Adressen werden nur gezeigt, wenn sie zur geprüften Domain gehören; Inhalt und "
              "Empfänger einer Mail nie.",
        "en": "For every message this audit used as evidence, this section shows its route through the servers "
              "(hops) and the verification of DKIM, ARC, SPF and DMARC beside the receiving server's own "
              "verdict. The results are those of the import; the MSG-* findings judge them. E-mail addresses "
              "appear only where they belong to the audited domain; a message's content and recipients are "
              "never shown.",
    },
    "from": {"de": "Absender (From)", "en": "From"},
    "envelope": {"de": "Umschlag-Absender", "en": "Envelope sender"},
    "received": {"de": "Empfangen", "en": "Received"},
    "verified": {"de": "Geprüft beim Import am {date} über Resolver {resolver}.",
                 "en": "Verified on import at {date} via resolver {resolver}."},
    "headers_only": {"de": "Nur die Kopfzeilen wurden importiert: DKIM ließ sich ohne den Inhalt nicht prüfen.",
                     "en": "Only the header block was imported: DKIM could not be checked without the body."},
    "findings": {"de": "Befunde zu dieser Mail", "en": "Findings on this message"},
    "no_findings": {"de": "Keine der Prüfungen MSG-* schlug für diese Mail fehl.",
                    "en": "None of the MSG-* checks failed for this message."},
    "route": {"de": "Weg der Mail", "en": "Route of the message"},
    "checks": {"de": "Prüfung der Absenderangaben", "en": "Verification of the sender"},
    "no_hops": {"de": "Die Mail enthält keine lesbaren Received-Zeilen.",
                "en": "The message has no readable Received lines."},
    "no_handover": {"de": "Welcher Hop die Übergabe an den Empfänger war, ist nicht erkennbar; SPF wurde darum "
                          "nicht geprüft.",
                    "en": "Which hop handed the message to the receiver cannot be told, so SPF was not checked."},
    "legend_sender": {"de": "Server des Absenders", "en": "Sender's servers"},
    "legend_receiver": {"de": "Server des Empfängers", "en": "Receiver's servers"},
    "legend_handover": {"de": "Übergabe an den Empfänger", "en": "Hand-over to the receiver"},
    "legend_no_tls": {"de": "ohne TLS", "en": "without TLS"},
    "no_tls": {"de": "ohne TLS", "en": "no TLS"},
    "unknown_host": {"de": "unbekannt", "en": "unknown"},
    "hop": {"de": "Hop", "en": "Hop"},
    "hop_from": {"de": "Von (Name, IP, HELO)", "en": "From (name, IP, HELO)"},
    "hop_by": {"de": "An", "en": "To"},
    "hop_transport": {"de": "Protokoll, TLS", "en": "Protocol, TLS"},
    "hop_delay": {"de": "Dauer", "en": "Delay"},
    "delay_value": {"de": "{seconds} s", "en": "{seconds} s"},
    "handover_mark": {"de": "Übergabe", "en": "hand-over"},
    "method": {"de": "Verfahren", "en": "Method"},
    "detail": {"de": "Geprüft", "en": "Checked"},
    "ours": {"de": "Ergebnis (Import)", "en": "Result (import)"},
    "theirs": {"de": "Urteil des Empfängers", "en": "Receiver's verdict"},
    "not_reported": {"de": "nicht angegeben", "en": "not reported"},
    "differs": {"de": "Abweichung: der Empfänger urteilte „{theirs}“, der Import „{ours}“ (DNS geändert, oder die "
                      "Mail wurde nach dem Empfang verändert).",
                "en": "Differs: the receiver said \"{theirs}\", the import \"{ours}\" (DNS changed since, or the "
                      "message was altered after it was received)."},
    "no_signature": {"de": "keine DKIM-Signatur", "en": "no DKIM signature"},
    "dkim_detail": {"de": "d={domain}, s={selector}, {algorithm}", "en": "d={domain}, s={selector}, {algorithm}"},
    "bits": {"de": "{bits} Bit", "en": "{bits} bits"},
    "arc_detail": {"de": "ARC-Sätze: {count}", "en": "ARC sets: {count}"},
    "spf_detail": {"de": "IP {ip}, geprüfte Domain {domain}", "en": "IP {ip}, domain checked {domain}"},
    "spf_missing": {"de": "nicht geprüft: keine Sende-IP erkannt", "en": "not checked: no sending IP found"},
    "dmarc_detail": {"de": "p={policy}, SPF ausgerichtet: {spf}, DKIM ausgerichtet: {dkim}",
                     "en": "p={policy}, SPF aligned: {spf}, DKIM aligned: {dkim}"},
    "dmarc_missing": {"de": "nicht geprüft: keine From-Domain", "en": "not checked: no From domain"},
    "yes": {"de": "ja", "en": "yes"},
    "no": {"de": "nein", "en": "no"},
    #: What became of a DKIM signature (auditapp.message.traits.dkim_problem), for the reader of
    #: either language; a reason outside this list is shown as the verifier wrote it.
    "dkim_problem": {
        "body_changed": {"de": "Inhalt nach dem Signieren verändert (Body-Hash stimmt nicht)",
                         "en": "body changed after signing (body hash mismatch)"},
        "key_missing": {"de": "kein Schlüssel im DNS veröffentlicht", "en": "no key published in DNS"},
        "key_too_short": {"de": "Schlüssel zu kurz", "en": "key too short"},
        "expired": {"de": "Signatur abgelaufen", "en": "signature expired"},
        "sha1": {"de": "veraltetes Verfahren rsa-sha1", "en": "outdated rsa-sha1"},
        "signature_mismatch": {"de": "Signatur passt nicht zu den Kopfzeilen",
                               "en": "signature does not match the headers"},
        "bad_key": {"de": "Schlüsseleintrag unbrauchbar", "en": "unusable key record"},
        "malformed": {"de": "Signatur fehlerhaft aufgebaut", "en": "malformed signature"},
        "lookup_failed": {"de": "Abfrage des Schlüssels fehlgeschlagen", "en": "key lookup failed"},
        "unsupported": {"de": "Ed25519 hier nicht prüfbar", "en": "Ed25519 cannot be checked here"},
        "headers_only": {"de": "nur Kopfzeilen importiert, Inhalt nicht prüfbar",
                         "en": "headers only, the body could not be checked"},
        "unparsable": {"de": "Mail nicht lesbar", "en": "the message cannot be parsed"},
    },
    "learned": {"de": "aus Mail {message} gelernt, Hop {hop}", "en": "learned from message {message}, hop {hop}"},
    "learned_signature": {"de": "aus Mail {message} gelernt (DKIM-Signatur)",
                          "en": "learned from message {message} (DKIM signature)"},
    "learned_postfix": {"de": "aus der Postfix-Konfiguration: {setting}",
                        "en": "from the Postfix configuration: {setting}"},
    "dkim_selectors": {"de": "DKIM-Selektoren", "en": "DKIM selectors"},
}}


@cache
def message_texts() -> ReportTexts:
    """The section's texts, validated like report.toml (both languages, same placeholders)."""
    entries: dict[str, dict[str, str]] = {}
    _collect(_TEXTS, "", entries, "auditapp/report/message_texts.py")
    return ReportTexts(entries)


def with_message_texts(base: ReportTexts) -> ReportTexts:
    """``base`` (report.toml) plus the section's texts; a key defined in both raises."""
    extra = message_texts().entries
    clash = sorted(set(extra) & set(base.entries))
    if clash:
        raise ReportTextError(f"report texts defined twice (report.toml and message_texts.py): {clash}")
    return ReportTexts({**base.entries, **extra})
