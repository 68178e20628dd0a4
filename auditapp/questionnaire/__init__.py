"""The audit questionnaire (Qt-free): the catalog of questions and validated answers to it.

See :mod:`auditapp.questionnaire.schema` for the catalog model and the answers file format.
"""

from auditapp.questionnaire.answers import (
    dump_answers,
    load_answers_file,
    parse_answers,
    save_answers_file,
    validate_answers,
)
from auditapp.questionnaire.schema import (
    ANSWERS_FORMAT,
    ANSWERS_VERSION,
    AnswersError,
    Choice,
    Question,
    Questionnaire,
    QuestionnaireError,
    ShowIf,
    Text,
    Topic,
    load_questionnaire,
    questionnaire,
)

__all__ = [
    "ANSWERS_FORMAT",
    "ANSWERS_VERSION",
    "AnswersError",
    "Choice",
    "Question",
    "Questionnaire",
    "QuestionnaireError",
    "ShowIf",
    "Text",
    "Topic",
    "dump_answers",
    "load_answers_file",
    "load_questionnaire",
    "parse_answers",
    "questionnaire",
    "save_answers_file",
    "validate_answers",
]
