"""The imported Postfix configuration: effective values with provenance, and master.cf services.

:class:`PostfixConfig` answers the questions a check asks: "what value does parameter X have
for service Y, after ``$name`` expansion, and where does that value come from?" A value is
looked up in the service's ``-o`` overrides, then in main.cf (or ``postconf -n`` output),
then in the Postfix defaults (:mod:`auditapp.postfix.defaults`). Like the Postfix daemons,
``$name`` references inside a service are expanded with that service's overrides in force.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from auditapp.core.problem import Problem
from auditapp.postfix.defaults import Version, default_for, level_text, parse_level, parse_time
from auditapp.postfix.expand import Lookup, Resolver, expand
from auditapp.postfix.parser import ParsedText, RawService, Setting, Source

#: Well-known service names of the SMTP ports (/etc/services).
PORT_NAMES = {"smtp": 25, "submission": 587, "submissions": 465, "smtps": 465, "ssmtp": 465}


@dataclass(frozen=True)
class Param:
    """One parameter's effective value: as written, expanded, and where it came from."""

    name: str
    value: str
    expanded: str
    source: Source
    #: The value depends on the machine (e.g. ``myhostname`` unset) and is unknown offline.
    unknown: bool = False
    #: Expansion problems (loops, truncated macros); the expanded text then keeps the macro.
    problems: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return self.source.is_default

    def words(self) -> list[str]:
        """The value as a Postfix list: separated by whitespace and commas."""
        return self.expanded.replace(",", " ").split()

    def flag(self) -> bool:
        """A Postfix boolean: ``yes`` (case-insensitive) is true, everything else false."""
        return self.expanded.strip().lower() == "yes"

    def seconds(self, default_unit: str) -> int:
        """A time value in seconds; ValueError if Postfix would reject it."""
        return parse_time(self.expanded, default_unit)

    def cite(self) -> str:
        """``name = value [where]`` for results and evidence."""
        shown = self.value if self.value else '""'
        if self.unknown:
            shown += " (value unknown offline)"
        elif self.expanded != self.value:
            shown += f" → {self.expanded or chr(34) * 2}"
        return f"{self.name} = {shown} [{self.source}]"


@dataclass(eq=False)
class MasterService:
    """One master.cf service with its ``-o`` overrides (compared by identity: master.cf may repeat an entry)."""

    name: str
    type: str
    private: str
    unpriv: str
    chroot: str
    wakeup: str
    maxproc: str
    command: str
    args: tuple[str, ...]
    overrides: dict[str, Param]
    source: Source
    config: PostfixConfig = field(repr=False, compare=False)

    @property
    def key(self) -> str:
        """``name/type``, as ``postconf -P`` names a service."""
        return f"{self.name}/{self.type}"

    @property
    def host(self) -> str | None:
        """The listen address of an ``inet`` service (``127.0.0.1:587`` -> ``127.0.0.1``), else None."""
        return _split_endpoint(self.name)[0] if self.type == "inet" else None

    @property
    def port(self) -> str | None:
        """The port (number or service name) of an ``inet`` service."""
        return _split_endpoint(self.name)[1] if self.type == "inet" else None

    @property
    def port_number(self) -> int | None:
        port = self.port
        if port is None:
            return None
        if port.isascii() and port.isdigit():
            return int(port)
        return PORT_NAMES.get(port.lower())

    @property
    def loopback_only(self) -> bool:
        """Listens only on a loopback address (not reachable from the network)."""
        host = self.host
        if not host:
            return False
        if host.lower() == "localhost":
            return True
        try:
            return ipaddress.ip_address(host.strip("[]")).is_loopback
        except ValueError:
            return False

    def effective(self, name: str) -> Param:
        """The value this service runs with: its ``-o`` override, else main.cf, else the default."""
        return self.config.get(name, self)


def _split_endpoint(name: str) -> tuple[str | None, str]:
    """``[::1]:587`` -> ("::1", "587"); ``127.0.0.1:smtp`` -> ("127.0.0.1", "smtp"); ``587`` -> (None, "587")."""
    if name.startswith("["):
        close = name.find("]")
        if close > 0 and name[close + 1:close + 2] == ":":
            return name[1:close], name[close + 2:]
        return name[1:close] if close > 0 else name, ""
    host, sep, port = name.rpartition(":")
    return (host, port) if sep else (None, name)


class PostfixConfig:
    """A Postfix configuration as imported (files, postconf output, or pasted text)."""

    def __init__(self, parsed: ParsedText, origin: str, *, has_master: bool) -> None:
        self.origin = origin
        self.warnings: list[str] = list(parsed.warnings)
        #: Explicit main.cf settings; the last assignment wins, as in Postfix.
        self.settings: dict[str, Setting] = {}
        for setting in parsed.main:
            self.settings[setting.name] = setting
        #: Whether the services are known: master.cf or ``postconf -M`` output was imported. ``postconf -P``
        #: alone names some services and their overrides but not their commands, so it does not count:
        #: the service rules then say which command to add instead of judging a partial picture.
        self.has_master = has_master or bool(parsed.services)
        #: Only ``postconf -P`` output describes master.cf (the ``-M`` part is missing).
        self.master_partial = not self.has_master and bool(parsed.p_overrides)
        # Provisional values while the real ones are computed (compatibility_level may itself
        # contain a $macro whose lookup needs a level).
        self.compatibility_level: Version = (0,)
        self.version: Version | None = None
        self.version = self._version()
        self.compatibility_level = self._level()
        self.services: list[MasterService] = [self._service(raw) for raw in parsed.services]
        self._apply_p_overrides(parsed)

    # -- versions ------------------------------------------------------------------------

    def _level(self) -> Version:
        setting = self.settings.get("compatibility_level")
        if setting is None:
            return (0,)
        text = expand(setting.value, self._resolver(None), stack=("compatibility_level",)).text
        level = parse_level(text)
        if level is None:
            self.warnings.append(Problem("problem.postfix.bad_level", "{where}: compatibility_level {value} is not a "
                                         "level; taken as 0", where=str(setting.source), value=repr(text)))
            return (0,)
        return level

    def _version(self) -> Version | None:
        setting = self.settings.get("mail_version")
        return parse_level(setting.value) if setting else None

    @property
    def compatibility_level_text(self) -> str:
        return level_text(self.compatibility_level)

    @property
    def version_text(self) -> str:
        return level_text(self.version) if self.version else "unknown"

    # -- lookups -------------------------------------------------------------------------

    def _raw(self, name: str, service: MasterService | None) -> tuple[str, Source, bool] | None:
        """(value, source, unknown) before expansion, or None if undefined everywhere."""
        if service is not None and name in service.overrides:
            p = service.overrides[name]
            return p.value, p.source, False
        if service is not None and name == "service_name":
            # Set by master(8) for each process: the stock master.cf uses postfix/$service_name.
            return service.name, Source("default", note="the master.cf service name"), False
        if name in self.settings:
            s = self.settings[name]
            return s.value, s.source, False
        derived = self._derived_default(name)
        if derived is not None:
            return derived
        d = default_for(name, self.compatibility_level, self.version)
        if d is None:
            return None
        return d.value, Source("default", note=d.note), d.unknown

    def _derived_default(self, name: str) -> tuple[str, Source, bool] | None:
        """Defaults computed from other settings (Postfix derives mydomain from myhostname)."""
        if name == "mydomain" and "myhostname" in self.settings:
            host = expand(self.settings["myhostname"].value, self._resolver(None), stack=("myhostname",)).text
            if "." in host:
                return host.split(".", 1)[1], Source("default", note="myhostname without its first label"), False
        return None

    def _resolver(self, service: MasterService | None) -> Resolver:
        def resolve(name: str) -> Lookup:
            raw = self._raw(name, service)
            if raw is None:
                return Lookup(None)
            return Lookup(raw[0], unknown=raw[2])

        return resolve

    def get(self, name: str, service: MasterService | None = None) -> Param:
        """The effective value of ``name`` (for ``service``, if given), expanded, with provenance."""
        raw = self._raw(name, service)
        if raw is None:
            return Param(name, "", "", Source("unset"))
        value, source, unknown = raw
        if unknown:
            return Param(name, value, value, source, unknown=True)
        exp = expand(value, self._resolver(service), stack=(name,))
        return Param(name, value, exp.text, source, unknown=exp.unknown, problems=tuple(exp.problems))

    def is_set(self, name: str, service: MasterService | None = None) -> bool:
        """Whether ``name`` is set explicitly (main.cf, postconf -n or an override), not a default."""
        return (service is not None and name in service.overrides) or name in self.settings

    # -- services ------------------------------------------------------------------------

    def _service(self, raw: RawService) -> MasterService:
        svc = MasterService(raw.name, raw.type, raw.private, raw.unpriv, raw.chroot, raw.wakeup, raw.maxproc,
                            raw.command, raw.args, {}, raw.source, self)
        for setting in raw.overrides:
            svc.overrides[setting.name] = Param(setting.name, setting.value, setting.value, setting.source)
        self._expand_overrides(svc)
        return svc

    def _expand_overrides(self, svc: MasterService) -> None:
        """Store overrides with their expansion in the service's own context."""
        for name, p in list(svc.overrides.items()):
            exp = expand(p.value, self._resolver(svc), stack=(name,))
            svc.overrides[name] = Param(name, p.value, exp.text, p.source, exp.unknown, tuple(exp.problems))

    def _apply_p_overrides(self, parsed: ParsedText) -> None:
        """``postconf -P`` lines: the authoritative per-service values (they win over ``-M`` text)."""
        touched: list[MasterService] = []
        for po in parsed.p_overrides:
            svc = self.service(po.service, po.type)
            if svc is None:
                # Only -P output, no -M: the service exists, its command line is unknown.
                svc = MasterService(po.service, po.type, "-", "-", "-", "-", "-", "", (), {},
                                    po.setting.source, self)
                self.services.append(svc)
                self.warnings.append(Problem(
                    "problem.postfix.service_only_from_p", "{where}: service {service} is known only from postconf "
                    "-P; add the postconf -M output for its command", where=str(po.setting.source), service=svc.key))
            s = po.setting
            svc.overrides[s.name] = Param(s.name, s.value, s.value, s.source)
            touched.append(svc)
        for svc in touched:
            self._expand_overrides(svc)

    def service(self, name: str, type_: str = "inet") -> MasterService | None:
        """The service ``name/type`` (the last entry, if master.cf repeats it)."""
        found = None
        for svc in self.services:
            if svc.name == name and svc.type == type_:
                found = svc
        return found

    def smtpd_services(self) -> list[MasterService]:
        """Services that run the SMTP server: ``inet`` and ``pass`` (behind postscreen) entries of smtpd."""
        return [s for s in self.services if s.type in ("inet", "pass") and _program(s.command) == "smtpd"]

    def smtp_client_services(self) -> list[MasterService]:
        """Delivery agents that speak SMTP to other servers (``smtp``, ``relay``, ...)."""
        return [s for s in self.services if s.type == "unix" and _program(s.command) == "smtp"]

    def helo_name(self) -> str | None:
        """The HELO name Postfix sends (``smtp_helo_name``, expanded), or None when it is unknown offline."""
        p = self.get("smtp_helo_name")
        return None if p.unknown or p.problems or not p.expanded.strip() else p.expanded.strip()


def _program(command: str) -> str:
    """``smtpd`` for ``smtpd`` and ``/usr/lib/postfix/sbin/smtpd`` alike."""
    return command.rsplit("/", 1)[-1]
