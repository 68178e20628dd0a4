; Inno Setup 6.3+ script: the Windows installer of auditapp, from the PyInstaller one-folder build.
;
;   pyinstaller --noconfirm packaging\auditapp.spec          -> dist\auditapp\ (auditapp.exe, auditapp-gui.exe, ...)
;   iscc /DAppVersion=0.1.0 packaging\windows\auditapp.iss   -> dist\auditapp-0.1.0-setup.exe
;
; AppVersion must be passed (the only version source is [project] version in pyproject.toml).
; Installs for the current user without admin rights by default; the first page offers
; "for all users" (PrivilegesRequiredOverridesAllowed=dialog; /ALLUSERS or /CURRENTUSER on the
; command line). Registers .auditproj (ProgID auditapp.project) under HKA = HKCU or HKLM
; accordingly; the uninstaller removes the association again.
;
; auditapp.exe is the console build (command line); auditapp-gui.exe is the windowed build that
; shortcuts and the file association start, so no console window opens behind the window.

#ifndef AppVersion
#error Pass the version: iscc /DAppVersion=X.Y.Z packaging\windows\auditapp.iss
#endif
#ifndef DistDir
#define DistDir AddBackslash(SourcePath) + "..\..\dist\auditapp"
#endif
#ifndef OutputDir
#define OutputDir AddBackslash(SourcePath) + "..\..\dist"
#endif

#define AppName "auditapp"
#define AppPublisher "auditapp team"
#define AppExeName "auditapp-gui.exe"
#define CliExeName "auditapp.exe"
#define ProjectExt ".auditproj"
#define ProjectProgId "auditapp.project"
#define ProjectMimeType "application/x-auditapp-project"
#define SetupIcon AddBackslash(SourcePath) + "auditapp.ico"

[Setup]
; AppId identifies the installation for updates and uninstall: never change it.
AppId={{03122A27-2506-4171-9C6A-58C21DD82362}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppPublisher}
DefaultDirName={autopf}\{#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
ChangesAssociations=yes
UninstallDisplayName={#AppName} {#AppVersion}
UninstallDisplayIcon={app}\{#AppExeName}
ShowLanguageDialog=auto
WizardStyle=modern
Compression=lzma2
SolidCompression=yes
OutputDir={#OutputDir}
OutputBaseFilename={#AppName}-{#AppVersion}-setup
#ifexist SetupIcon
SetupIconFile={#SetupIcon}
#endif

[Languages]
; German first: it is the fallback when the Windows UI language is neither German nor English.
Name: "german"; MessagesFile: "compiler:Languages\German.isl"
Name: "english"; MessagesFile: "compiler:Default.isl"

[CustomMessages]
german.ProjectFileType=auditapp-Projekt
english.ProjectFileType=auditapp project

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#DistDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExeName}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExeName}"; Tasks: desktopicon

[Registry]
; The extension points at the ProgID; the empty keys go at uninstall once their values are gone
; (the uninstaller works through these entries in reverse order).
Root: HKA; Subkey: "Software\Classes\{#ProjectExt}"; Flags: uninsdeletekeyifempty
Root: HKA; Subkey: "Software\Classes\{#ProjectExt}\OpenWithProgids"; Flags: uninsdeletekeyifempty
Root: HKA; Subkey: "Software\Classes\{#ProjectExt}"; ValueType: string; ValueName: ""; ValueData: "{#ProjectProgId}"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\{#ProjectExt}"; ValueType: string; ValueName: "Content Type"; ValueData: "{#ProjectMimeType}"; Flags: uninsdeletevalue
Root: HKA; Subkey: "Software\Classes\{#ProjectExt}\OpenWithProgids"; ValueType: string; ValueName: "{#ProjectProgId}"; ValueData: ""; Flags: uninsdeletevalue
; The ProgID: name shown in Explorer, icon, and how to open a file.
Root: HKA; Subkey: "Software\Classes\{#ProjectProgId}"; ValueType: string; ValueName: ""; ValueData: "{cm:ProjectFileType}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\{#ProjectProgId}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExeName},0"
Root: HKA; Subkey: "Software\Classes\{#ProjectProgId}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExeName}"" ""%1"""
; "Open with" lists the program for .auditproj files.
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExeName}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExeName}\SupportedTypes"; ValueType: string; ValueName: "{#ProjectExt}"; ValueData: ""

[Run]
Filename: "{app}\{#AppExeName}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
