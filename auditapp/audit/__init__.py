"""One audit, from the user's input to a recorded run: request, prepare, engine.

* :mod:`auditapp.audit.request`: the frozen :class:`AuditRequest` every front end builds (the
  command line, ``--project``, the window, the demo) and the target built from it;
* :mod:`auditapp.audit.prepare`: the one prepare step that checks a request
  (:mod:`auditapp.core.validation`), loads the Postfix input, picks the resolvers and gives a
  :class:`PreparedAudit`;
* :mod:`auditapp.audit.engine`: runs the collectors concurrently and each check as soon as its
  facts exist, and records the :class:`~auditapp.core.model.Run`.
"""
