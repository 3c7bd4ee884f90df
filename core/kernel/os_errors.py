"""The operating system's error texts in German, by errno: what a reader of the shell or
of an import report sees instead of Python's English ``strerror``."""

from __future__ import annotations

import errno

OS_ERRORS = {
    errno.ENOENT: "Datei oder Verzeichnis nicht gefunden",
    errno.EACCES: "Keine Berechtigung",
    errno.EPERM: "Vorgang nicht erlaubt",
    errno.EISDIR: "Ist ein Verzeichnis, keine Datei",
    errno.ENOTDIR: "Ist kein Verzeichnis",
    errno.EEXIST: "Datei existiert bereits",
    errno.ENOSPC: "Kein Speicherplatz mehr auf dem Datenträger",
    errno.EROFS: "Dateisystem ist nur lesbar",
    errno.ENAMETOOLONG: "Dateiname zu lang",
    errno.ELOOP: "Zu viele symbolische Verknüpfungen",
    errno.EMFILE: "Zu viele offene Dateien",
    errno.ENFILE: "Zu viele offene Dateien im System",
    errno.EBUSY: "Gerät oder Datei wird gerade benutzt",
    errno.EINVAL: "Ungültiges Argument",
    errno.EIO: "Ein- oder Ausgabefehler",
    errno.EPIPE: "Die Gegenseite hat die Verbindung geschlossen",
    errno.ECONNREFUSED: "Verbindung abgelehnt",
    errno.ECONNRESET: "Verbindung von der Gegenseite zurückgesetzt",
    errno.ETIMEDOUT: "Zeitüberschreitung der Verbindung",
    errno.EHOSTUNREACH: "Rechner nicht erreichbar",
    errno.ENETUNREACH: "Netzwerk nicht erreichbar",
    errno.EADDRINUSE: "Adresse wird bereits verwendet",
    errno.EADDRNOTAVAIL: "Adresse nicht verfügbar",
    errno.ENOTEMPTY: "Verzeichnis ist nicht leer",
    errno.EXDEV: "Verschieben über Dateisystemgrenzen nicht möglich",
    errno.EFBIG: "Datei zu groß",
}


def os_error_text(error: OSError) -> str:
    """The German text of ``error``'s errno; the errno's symbolic name where unknown."""
    if error.errno in OS_ERRORS:
        return OS_ERRORS[error.errno]
    if error.errno is not None:
        name = errno.errorcode.get(error.errno, str(error.errno))
        return f"Fehler des Betriebssystems ({name})"
    return f"Fehler des Betriebssystems ({type(error).__name__})"


def os_error_line(error: OSError) -> str:
    """``Datei oder Verzeichnis nicht gefunden: /pfad/datei`` (the file named where known)."""
    text = os_error_text(error)
    names = [str(n) for n in (error.filename, error.filename2) if n not in (None, "")]
    return f"{text}: {' -> '.join(names)}" if names else text
