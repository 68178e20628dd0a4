"""The target page's test account: its password in the system keyring, and the hosts allowed to receive it.

A mixin of :class:`~auditapp.gui.pages.target_page.TargetPage`, kept in its own module because the
keyring dialogue (which may block or prompt, so it runs as a task) changes for other reasons than
the form; it uses the page's context and fields.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import (
    QInputDialog,
    QLineEdit,
    QMessageBox,
)

from auditapp.core.validation import (
    InputError,
    display_domain,
    in_domain,
    normalize_domain,
)
from auditapp.gui.context import AppContext
from auditapp.gui.i18n import tr
from auditapp.gui.widgets.fields import message_for
from auditapp.gui.workers import KeyringAnswer


class AccountMixin:
    """Everything of the target page about the test account's password and its trusted hosts."""

    ctx: AppContext

    # -- test account password (keyring only) ---------------------------------------------------

    def _audited_domain(self) -> str:
        """The domain the password is stored for: the one in the field, once it is valid."""
        return normalize_domain(self.domain.text()) if self.domain.valid and self.domain.text() else ""

    def _enable_password(self) -> str:
        user = self.account.text() if self.account.valid and self._audited_domain() else ""
        for widget in (self.password, self.store_password, self.forget_password, self.trust_button):
            widget.setEnabled(bool(user))
        self.untrust_button.setEnabled(bool(user and self._trusted))
        return user

    def _account_edited(self) -> None:
        self._enable_password()
        self.password_note.clear()
        self._keyring_check.start()

    def _update_password_note(self) -> None:
        """Ask the keyring (in a task) whether the account's password is stored."""
        from auditapp.gui.workers import keyring_job

        user = self._enable_password()
        if not user:
            self.password_note.clear()
            self._show_trusted([])
            return
        task = self.ctx.tasks.submit("keyring", keyring_job(self._audited_domain(), user))
        task.done.connect(self._password_answer)  # a bound method: dropped if the page is rebuilt meanwhile

    def _password_answer(self, answer: KeyringAnswer) -> None:
        self._password_state(answer.user, answer.state, answer.detail, list(answer.hosts))

    def _password_state(self, user: str, state: str, detail: str, hosts: list[str]) -> None:
        if user != (self.account.text() if self.account.valid else ""):
            return  # an answer for a name that has since been changed
        if state == "problem":
            self.password_note.setText(tr("target.keyring_problem", reason=detail))
        else:
            self.password_note.setText(tr("target.password_stored" if state == "stored" else "target.password_missing",
                                          user=user, domain=display_domain(self._audited_domain())))
        self._show_trusted(hosts)

    def _show_trusted(self, hosts: list[str]) -> None:
        self._trusted = list(hosts)
        domain = self._audited_domain()
        if not domain:
            self.trust_note.clear()
        elif hosts:
            self.trust_note.setText(tr("target.trusted_list", domain=display_domain(domain),
                                       hosts=", ".join(display_domain(h) for h in hosts)))
        else:
            self.trust_note.setText(tr("target.trusted_none", domain=display_domain(domain)))
        self._enable_password()

    def _store_password(self) -> None:
        from auditapp.credentials import set_password

        domain, user, secret = self._audited_domain(), self.account.text(), self.password.text()
        if not domain or not user or not secret:
            return
        stored = self._keyring(set_password, domain, user, secret)
        self.password.clear()  # the secret does not linger in the widget
        if not stored:
            return
        self._update_password_note()
        self.ctx.status.emit(tr("target.password_saved", user=user))

    def _forget_password(self) -> None:
        from auditapp.credentials import delete_password

        domain, user = self._audited_domain(), self.account.text()
        if domain and user and not self._keyring(delete_password, domain, user):
            return
        self._update_password_note()

    def _keyring(self, action: Callable[..., object], *args: str) -> bool:
        """Run one keyring write; a refusal (CredentialError, the backend's own error) shows beside the field."""
        try:
            action(*args)
        except Exception as exc:
            self.password_note.setText(tr("target.keyring_problem", reason=str(exc)))
            return False
        return True

    def _outside_client_hosts(self) -> list[str]:
        domain = self._audited_domain()
        hosts = self._hosts(self.client_hosts) if self.client_hosts.valid else []
        return [h for h in hosts if not in_domain(h, domain) and h not in self._trusted]

    def _trust_host(self) -> None:
        """Confirm one host outside the domain for the login; a project file can only suggest it."""
        from auditapp.credentials import trust_host

        domain, user = self._audited_domain(), self.account.text()
        if not domain or not user:
            return
        suggestions = self._outside_client_hosts()
        suggestion = display_domain(suggestions[0]) if suggestions else ""
        text, ok = QInputDialog.getText(self, tr("target.trust_title"),
                                        tr("target.trust_ask", domain=display_domain(domain)),
                                        QLineEdit.EchoMode.Normal, suggestion)
        if not ok or not text.strip():
            return
        try:
            host = normalize_domain(text.strip())
        except InputError as exc:
            QMessageBox.warning(self, tr("target.trust_title"), message_for(exc))
            return
        if in_domain(host, domain):
            self.ctx.status.emit(tr("target.trust_not_needed", host=display_domain(host),
                                    domain=display_domain(domain)))
            return
        answer = QMessageBox.warning(
            self, tr("target.trust_title"),
            tr("target.trust_confirm", host=display_domain(host), user=user, domain=display_domain(domain)),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        if answer != QMessageBox.StandardButton.Yes:
            return
        if not self._keyring(trust_host, domain, user, host):
            return
        self._update_password_note()
        self.ctx.status.emit(tr("target.trust_saved", host=display_domain(host)))

    def _forget_trusted(self) -> None:
        from auditapp.credentials import forget_trusted_hosts

        domain, user = self._audited_domain(), self.account.text()
        if domain and user and not self._keyring(forget_trusted_hosts, domain, user):
            return
        self._update_password_note()
