"""Desktop integration files under packaging/: valid for their tools and consistent with each other.

Linux files are checked by the real validators (appstreamcli, desktop-file-validate,
update-mime-database, xdg-mime, Qt's own MIME database) and by installing them into a temporary
prefix. The Windows installer script and the macOS Info.plist cannot be built here: their key
entries are read and cross-checked against the Linux files, pyproject.toml and the PyInstaller spec.

A missing tool skips its test locally and fails it in CI (``CI`` set), where
tests/lab/install-lab-servers.sh installs: appstream desktop-file-utils shared-mime-info
xdg-utils libfile-mimeinfo-perl.
"""

from __future__ import annotations

import configparser
import importlib.util
import os
import plistlib
import re
import shutil
import struct
import subprocess
import sys
import tomllib
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINUX = ROOT / "packaging" / "linux"
APP_ID = "de.auditapp.auditapp"
DESKTOP = LINUX / f"{APP_ID}.desktop"
METAINFO = LINUX / f"{APP_ID}.metainfo.xml"
MIME_XML = LINUX / f"{APP_ID}-mime.xml"
INSTALL_SCRIPT = LINUX / "install-desktop-files.sh"
ISS = ROOT / "packaging" / "windows" / "auditapp.iss"
INFO_PLIST_PY = ROOT / "packaging" / "macos" / "info_plist.py"
SPEC = ROOT / "packaging" / "auditapp.spec"
ICONS = ROOT / "resources" / "icons"
MIME_TYPE = "application/x-auditapp-project"
EXTENSION = "auditproj"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: Environment variables that make xdg-mime ask a desktop (gio, kmimetypefinder) instead of the XDG files.
DESKTOP_ENV_VARS = ("XDG_CURRENT_DESKTOP", "DESKTOP_SESSION", "KDE_FULL_SESSION", "KDE_SESSION_VERSION",
                    "GNOME_DESKTOP_SESSION_ID", "MATE_DESKTOP_SESSION_ID", "XDG_SESSION_DESKTOP")


def pyproject_version() -> str:
    return str(tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]["version"])


def tool(name: str, package: str) -> str:
    """The path of a command-line tool; missing, the test skips locally and fails in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} not installed (apt-get install {package})"
        if os.environ.get("CI"):
            pytest.fail(f"{message}: CI must install it (tests/lab/install-lab-servers.sh)")
        pytest.skip(message)
    return path


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, check=False)


def issues(output: str, severities: str) -> list[str]:
    """appstreamcli report lines of the given severities (E error, W warning, I info, P pedantic)."""
    return [line.strip() for line in output.splitlines() if re.match(rf"\s*[{severities}]: ", line)]


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    return parser["Desktop Entry"]


def load_info_plist_module() -> ModuleType:
    """packaging/macos/info_plist.py by path (``packaging`` would clash with the PyPI package)."""
    spec = importlib.util.spec_from_file_location("auditapp_macos_info_plist", INFO_PLIST_PY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def icon_sizes() -> list[int]:
    sizes = sorted(int(m.group(1)) for p in ICONS.glob("auditapp-*.png")
                   if (m := re.fullmatch(r"auditapp-(\d+)\.png", p.name)))
    assert sizes, "no resources/icons/auditapp-N.png"
    return sizes


def install_mime_database(share: Path) -> Path:
    """Our MIME package alone in ``share/mime``, compiled by update-mime-database."""
    mime = share / "mime"
    (mime / "packages").mkdir(parents=True)
    shutil.copy(MIME_XML, mime / "packages" / MIME_XML.name)
    result = run([tool("update-mime-database", "shared-mime-info"), "-V", str(mime)])
    assert result.returncode == 0, result.stderr + result.stdout
    return mime


def xdg_env(share: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DESKTOP_ENV_VARS}
    env["XDG_DATA_HOME"] = str(share)
    env["XDG_DATA_DIRS"] = f"{share}:/usr/local/share:/usr/share"
    return env


def project_file(folder: Path, name: str) -> Path:
    """A project file as auditapp writes it (``json.dumps(indent=2)``), so the magic rule sees real bytes."""
    path = folder / name
    shutil.copy(ROOT / "tests" / "fixtures" / "projects" / "v1.json", path)
    assert path.read_text("utf-8").startswith('{\n  "format": "auditapp.project"')
    return path


# -- AppStream metainfo -------------------------------------------------------------------------------


def test_metainfo_validates_without_errors_or_warnings() -> None:
    appstreamcli = tool("appstreamcli", "appstream")
    result = run([appstreamcli, "validate", "--no-net", "--explain", str(METAINFO)])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    # Infos and pedantic notes are allowed: AppStream 0.16 (Debian 12) reports the <developer> tag
    # of AppStream 1.0 as "unknown-tag developer" (info); the older <developer_name> is deprecated in 1.0.
    assert issues(output, "EW") == [], output


def test_metainfo_matches_desktop_entry_and_mime_type() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("launchable[@type='desktop-id']") == DESKTOP.name
    assert root.findtext("provides/binary") == desktop_entry()["Exec"].split()[0]
    assert [e.text for e in root.findall("provides/mediatype")] == [MIME_TYPE]
    assert root.find("content_rating[@type='oars-1.1']") is not None
    # German translations of what software centres show first.
    for tag in ("summary", "description/p"):
        assert root.find(f"{tag}[@{XML_LANG}='de']") is not None, tag
    # Screenshots point at files that exist in the repository.
    for image in root.iter("image"):
        assert image.text is not None and image.text.startswith("https://")
        name = image.text.rsplit("/", 1)[1]
        assert (ROOT / "resources" / "screenshots" / name).is_file(), name
        assert (int(image.get("width", 0)), int(image.get("height", 0))) == png_size(
            ROOT / "resources" / "screenshots" / name)


def test_newest_release_in_metainfo_is_the_pyproject_version() -> None:
    """A version bump in pyproject.toml needs a <release> with notes on top of the metainfo."""
    releases = ET.parse(METAINFO).getroot().findall("releases/release")
    assert releases, "no <release> in the metainfo"
    newest = releases[0]
    dates = [r.get("date", "") for r in releases]
    assert dates == sorted(dates, reverse=True), "releases must be listed newest first"
    assert newest.get("version") == pyproject_version(), (
        f"pyproject.toml says {pyproject_version()}, the newest metainfo release is {newest.get('version')}: "
        f"add a <release> to {METAINFO.relative_to(ROOT)}")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", newest.get("date", ""))
    assert newest.find("description/p") is not None, "the release needs notes"
    assert newest.find(f"description/p[@{XML_LANG}='de']") is not None, "the release notes need German"


# -- desktop entry ------------------------------------------------------------------------------------


def test_desktop_entry_validates() -> None:
    validator = tool("desktop-file-validate", "desktop-file-utils")
    result = run([validator, str(DESKTOP)])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert output.strip() == "", output  # not even hints


def test_desktop_entry_matches_the_application() -> None:
    entry = desktop_entry()
    app_py = (ROOT / "auditapp" / "gui" / "app.py").read_text("utf-8")
    desktop_name = re.search(r'setDesktopFileName\("([^"]+)"\)', app_py)
    app_name = re.search(r'setApplicationName\("([^"]+)"\)', app_py)
    assert desktop_name and desktop_name.group(1) == APP_ID, "Wayland app_id must name the .desktop file"
    # Qt sets the X11 WM_CLASS class to the application name.
    assert app_name and entry["StartupWMClass"] == app_name.group(1)
    assert entry["Exec"] == "auditapp %f"
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"
    assert entry["MimeType"].split(";")[:-1] == [MIME_TYPE]
    for key in ("GenericName", "Comment", "Keywords"):
        assert entry.get(f"{key}[de]"), f"{key}[de] missing"


# -- shared-mime-info ---------------------------------------------------------------------------------


def test_mime_definition_is_well_formed() -> None:
    root = ET.parse(MIME_XML).getroot()
    assert root.tag == f"{MIME_NS}mime-info"
    (mime_type,) = root.findall(f"{MIME_NS}mime-type")
    assert mime_type.get("type") == MIME_TYPE
    assert {c.get(XML_LANG) for c in mime_type.findall(f"{MIME_NS}comment")} == {None, "de"}
    assert [g.get("pattern") for g in mime_type.findall(f"{MIME_NS}glob")] == [f"*.{EXTENSION}"]
    assert mime_type.find(f"{MIME_NS}sub-class-of").get("type") == "application/json"  # type: ignore[union-attr]
    assert mime_type.find(f"{MIME_NS}icon").get("name") == APP_ID  # type: ignore[union-attr]


def test_mime_database_built_from_the_definition(tmp_path: Path) -> None:
    mime = install_mime_database(tmp_path)
    assert f"{MIME_TYPE}:*.{EXTENSION}" in [line.split(":", 1)[1] for line in (mime / "globs2").read_text().splitlines()
                                            if not line.startswith("#")]
    assert f"{MIME_TYPE} application/json" in (mime / "subclasses").read_text().splitlines()
    assert f"{MIME_TYPE}:{APP_ID}" in (mime / "icons").read_text().splitlines()
    assert (mime / "mime.cache").stat().st_size > 0
    assert (mime / "application" / "x-auditapp-project.xml").is_file()


def test_xdg_mime_recognises_project_files(tmp_path: Path) -> None:
    xdg_mime = tool("xdg-mime", "xdg-utils")
    # Without mimetype (File::MimeInfo) xdg-mime falls back to file(1), which ignores the XDG database.
    tool("mimetype", "libfile-mimeinfo-perl")
    share = tmp_path / "share"
    install_mime_database(share)
    files = [project_file(tmp_path, "Kunde.auditproj"), project_file(tmp_path, "no-extension")]
    for path in files:
        result = run([xdg_mime, "query", "filetype", str(path)], env=xdg_env(share))
        assert result.stdout.strip() == MIME_TYPE, (path.name, result.stdout, result.stderr)


def test_qt_recognises_project_files(tmp_path: Path) -> None:
    """The application's own file dialogs use QMimeDatabase: glob, magic, comment and icon must arrive there."""
    tool("update-mime-database", "shared-mime-info")
    share = tmp_path / "share"
    install_mime_database(share)
    files = [project_file(tmp_path, "Kunde.auditproj"), project_file(tmp_path, "no-extension")]
    script = (
        "import sys\n"
        "from PySide6.QtCore import QMimeDatabase\n"
        "db = QMimeDatabase()\n"
        "for p in sys.argv[1:]:\n"
        "    t = db.mimeTypeForFile(p)\n"
        "    print(t.name(), t.iconName(), t.inherits('application/json'), t.comment(), sep='|')\n"
    )
    env = xdg_env(share) | {"LANGUAGE": "de", "LANG": "de_DE.UTF-8", "LC_ALL": ""}
    result = run([sys.executable, "-c", script, *map(str, files)], env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"{MIME_TYPE}|{APP_ID}|True|auditapp-Projekt"] * len(files), result.stdout


# -- install-desktop-files.sh -------------------------------------------------------------------------


def test_install_script_installs_into_a_prefix_and_uninstalls(tmp_path: Path) -> None:
    prefix = tmp_path / "prefix"
    env = xdg_env(prefix / "share") | {"PREFIX": str(prefix), "HOME": str(tmp_path / "home")}
    result = run(["bash", str(INSTALL_SCRIPT)], env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    share = prefix / "share"
    assert (share / "applications" / DESKTOP.name).read_bytes() == DESKTOP.read_bytes()
    assert (share / "metainfo" / METAINFO.name).read_bytes() == METAINFO.read_bytes()
    assert (share / "mime" / "packages" / MIME_XML.name).read_bytes() == MIME_XML.read_bytes()
    hicolor = share / "icons" / "hicolor"
    for size in icon_sizes():
        icon = hicolor / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        assert png_size(icon) == (size, size), icon
    assert (hicolor / "scalable" / "apps" / f"{APP_ID}.svg").read_bytes() == (ICONS / "auditapp.svg").read_bytes()
    assert not (tmp_path / "home").exists(), "PREFIX must keep the script out of ~/.local"
    if shutil.which("update-mime-database"):
        assert MIME_TYPE in (share / "mime" / "types").read_text().split()
    if shutil.which("update-desktop-database"):
        cache = (share / "applications" / "mimeinfo.cache").read_text()
        assert f"{MIME_TYPE}={DESKTOP.name};" in cache.splitlines()

    # Removal takes back exactly what was installed.
    result = run(["bash", str(INSTALL_SCRIPT), "--uninstall"], env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    left = [p for p in prefix.rglob(f"{APP_ID}*") if p.is_file()]
    assert left == []


def test_installed_tree_validates_and_opens_project_files_with_auditapp(tmp_path: Path) -> None:
    """appstreamcli validate-tree checks metainfo, desktop entry and icon together, as software centres see them."""
    appstreamcli = tool("appstreamcli", "appstream")
    xdg_mime = tool("xdg-mime", "xdg-utils")
    tool("update-desktop-database", "desktop-file-utils")
    prefix = tmp_path / "prefix"
    fake_binary = tmp_path / "dist" / "auditapp" / "auditapp"
    fake_binary.parent.mkdir(parents=True)
    fake_binary.write_text("#!/bin/sh\nexit 0\n")
    fake_binary.chmod(0o755)
    env = xdg_env(prefix / "share") | {"PREFIX": str(prefix)}
    result = run(["bash", str(INSTALL_SCRIPT), "--link-binary", str(fake_binary)], env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert (prefix / "bin" / "auditapp").resolve() == fake_binary

    result = run([appstreamcli, "validate-tree", "--no-net", str(prefix)])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert issues(output, "EW") == [], output

    result = run([xdg_mime, "query", "default", MIME_TYPE], env=env)
    assert result.stdout.strip() == DESKTOP.name, result.stdout + result.stderr


# -- macOS Info.plist ---------------------------------------------------------------------------------


def test_info_plist_declares_the_project_document_type() -> None:
    module = load_info_plist_module()
    plist: dict[str, Any] = module.info_plist(pyproject_version())
    assert plist["CFBundleIdentifier"] == APP_ID
    assert plist["CFBundleShortVersionString"] == plist["CFBundleVersion"] == pyproject_version()
    assert plist["NSHighResolutionCapable"] is True
    assert re.fullmatch(r"\d+\.\d+", plist["LSMinimumSystemVersion"])

    (doc_type,) = plist["CFBundleDocumentTypes"]
    assert doc_type["CFBundleTypeRole"] == "Editor"
    assert doc_type["LSHandlerRank"] == "Owner"
    exported = {uti["UTTypeIdentifier"]: uti for uti in plist["UTExportedTypeDeclarations"]}
    (uti_name,) = doc_type["LSItemContentTypes"]
    assert uti_name == "de.auditapp.project"
    uti = exported[uti_name]  # the document type names a UTI this bundle declares
    assert set(uti["UTTypeConformsTo"]) >= {"public.json", "public.data"}
    assert uti["UTTypeTagSpecification"]["public.filename-extension"] == [EXTENSION]
    assert uti["UTTypeTagSpecification"]["public.mime-type"] == [MIME_TYPE]

    assert plistlib.loads(plistlib.dumps(plist)) == plist


@pytest.mark.parametrize(("version", "bundle"), [("0.1.0", "0.1.0"), ("1.2", "1.2.0"), ("2", "2.0.0"),
                                                 ("0.2.0rc1", "0.2.0"), ("1.10.3.dev4", "1.10.3")])
def test_info_plist_bundle_version_is_numeric(version: str, bundle: str) -> None:
    module = load_info_plist_module()
    assert module.info_plist(version)["CFBundleShortVersionString"] == bundle
    assert module.info_plist(version)["CFBundleVersion"] == bundle


def test_info_plist_refuses_a_non_version() -> None:
    with pytest.raises(ValueError, match="not a version"):
        load_info_plist_module().info_plist("latest")


def test_info_plist_module_needs_only_the_standard_library() -> None:
    imports = re.findall(r"^\s*(?:from|import)\s+([\w.]+)", INFO_PLIST_PY.read_text("utf-8"), re.MULTILINE)
    assert set(imports) <= {"__future__", "re", "typing", "plistlib", "sys"}, imports


# -- Windows installer (Inno Setup) -------------------------------------------------------------------


def iss_text() -> str:
    return ISS.read_text("utf-8")


def iss_defines() -> dict[str, str]:
    return dict(re.findall(r'^#define\s+(\w+)\s+"([^"]*)"\s*$', iss_text(), re.MULTILINE))


def iss_section(name: str) -> list[str]:
    lines: list[str] = []
    current = ""
    for line in iss_text().splitlines():
        if header := re.fullmatch(r"\[(\w+)\]", line.strip()):
            current = header.group(1)
        elif current == name and line.strip() and not line.lstrip().startswith(";"):
            lines.append(line.strip())
    return lines


def iss_setup() -> dict[str, str]:
    return dict(line.split("=", 1) for line in iss_section("Setup") if "=" in line and not line.startswith("#"))


def iss_entries(section: str) -> list[dict[str, str]]:
    """Entry lines (``Name: "x"; Flags: y``) as dicts; Inno's doubled quotes inside quoted values resolved."""
    entries = []
    for line in iss_section(section):
        params = re.findall(r'(\w+):\s*("(?:[^"]|"")*"|[^;]*)', line)
        entries.append({k: (v[1:-1].replace('""', '"') if v.startswith('"') else v.strip()) for k, v in params})
    return entries


def test_iss_version_comes_from_the_command_line() -> None:
    text = iss_text()
    assert "AppVersion" not in iss_defines(), "the version must come from /DAppVersion=..., not the script"
    assert re.search(r"^#ifndef AppVersion\s*\n\s*#error ", text, re.MULTILINE)
    setup = iss_setup()
    assert setup["AppVersion"] == "{#AppVersion}"
    assert "{#AppVersion}" in setup["OutputBaseFilename"]


def test_iss_setup_directives() -> None:
    setup = iss_setup()
    assert re.fullmatch(r"\{\{[0-9A-F]{8}(-[0-9A-F]{4}){3}-[0-9A-F]{12}\}", setup["AppId"])
    uuid.UUID(setup["AppId"][2:-1])
    assert setup["ChangesAssociations"] == "yes"
    assert setup["PrivilegesRequired"] == "lowest"
    assert setup["PrivilegesRequiredOverridesAllowed"] == "dialog"
    assert setup["DefaultDirName"].startswith("{autopf}\\")
    assert setup["UninstallDisplayIcon"] == "{app}\\{#AppExeName}"
    languages = {e["Name"]: e["MessagesFile"] for e in iss_entries("Languages")}
    assert languages == {"german": "compiler:Languages\\German.isl", "english": "compiler:Default.isl"}
    messages = iss_section("CustomMessages")
    assert {m.split(".", 1)[0] for m in messages} == set(languages)


def test_iss_file_association_uses_one_progid() -> None:
    defines = iss_defines()
    progid, ext = defines["ProjectProgId"], defines["ProjectExt"]
    assert progid == "auditapp.project"
    assert ext == f".{EXTENSION}"
    assert defines["ProjectMimeType"] == MIME_TYPE
    registry = iss_entries("Registry")
    assert registry and all(e["Root"] == "HKA" for e in registry), "HKA: HKCU per user, HKLM for all users"
    assert all(e["Subkey"].startswith("Software\\Classes\\") for e in registry)

    def value(subkey: str, name: str) -> dict[str, str]:
        (entry,) = [e for e in registry if e["Subkey"] == subkey and e.get("ValueName") == name]
        return entry

    ext_key, prog_key = "Software\\Classes\\{#ProjectExt}", "Software\\Classes\\{#ProjectProgId}"
    assert value(ext_key, "")["ValueData"] == "{#ProjectProgId}"
    assert value(ext_key + "\\OpenWithProgids", "{#ProjectProgId}")["ValueData"] == ""
    assert value(prog_key, "")["ValueData"] == "{cm:ProjectFileType}"
    assert value(prog_key + "\\DefaultIcon", "")["ValueData"] == "{app}\\{#AppExeName},0"
    assert value(prog_key + "\\shell\\open\\command", "")["ValueData"] == '"{app}\\{#AppExeName}" "%1"'

    # Uninstall leaves nothing behind: each entry is deleted itself or lies under a deleted key.
    deleted_keys = [e["Subkey"] for e in registry if "uninsdeletekey" in e.get("Flags", "").split()]
    for entry in registry:
        flags = entry.get("Flags", "").split()
        own = {"uninsdeletekey", "uninsdeletevalue", "uninsdeletekeyifempty"} & set(flags)
        assert own or any(entry["Subkey"].startswith(k + "\\") for k in deleted_keys), entry


def test_iss_starts_the_windowed_executable_the_spec_builds() -> None:
    defines = iss_defines()
    gui_exe, cli_exe = defines["AppExeName"], defines["CliExeName"]
    icons = iss_entries("Icons")
    assert {e["Filename"] for e in icons} == {"{app}\\{#AppExeName}"}
    assert {e["Name"] for e in icons} == {"{autoprograms}\\{#AppName}", "{autodesktop}\\{#AppName}"}
    assert [e["Tasks"] for e in icons if "Tasks" in e] == ["desktopicon"]
    (files,) = iss_entries("Files")
    assert files["Source"] == "{#DistDir}\\*"
    assert {"recursesubdirs", "createallsubdirs"} <= set(files["Flags"].split())
    if not SPEC.is_file():
        pytest.skip("packaging/auditapp.spec not written yet")
    built = dict(re.findall(r'"([\w.-]+)",\s*console\s*=\s*(True|False)', SPEC.read_text("utf-8")))
    assert built.get(gui_exe.removesuffix(".exe")) == "False", f"the spec builds no windowed {gui_exe}: {built}"
    assert built.get(cli_exe.removesuffix(".exe")) == "True", f"the spec builds no console {cli_exe}: {built}"
    assert re.search(r'COLLECT\([^)]*name="auditapp"', SPEC.read_text("utf-8")), "dist\\auditapp is the folder"
    assert "info_plist(" in SPEC.read_text("utf-8"), "the spec must pass info_plist(VERSION) to BUNDLE"


def test_the_bundle_lock_pins_every_runtime_dependency_with_hashes() -> None:
    """``make package`` installs from packaging/requirements-bundle.txt with --require-hashes (issue 12)."""
    import tomllib

    from packaging.requirements import Requirement

    lock = (ROOT / "packaging" / "requirements-bundle.txt").read_text("utf-8")
    pins: dict[str, str] = {}
    hashed: set[str] = set()
    current = ""
    for line in lock.splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)==([^ \\]+)", line)
        if m:
            current = re.sub(r"[-_.]+", "-", m.group(1)).lower()
            pins[current] = m.group(2)
        elif "--hash=sha256:" in line and current:
            hashed.add(current)
    assert pins and set(pins) == hashed, set(pins) ^ hashed  # every pin carries its hashes
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    for text in [*project["dependencies"], *project["optional-dependencies"]["package"]]:
        req = Requirement(text)
        name = re.sub(r"[-_.]+", "-", req.name).lower()
        assert name in pins, f"{name} is not in the lock file; run make lock"
        assert req.specifier.contains(pins[name], prereleases=True), (name, pins[name], str(req.specifier))
    assert "pypdf" in {re.sub(r"[-_.]+", "-", Requirement(t).name).lower() for t in project["dependencies"]}
