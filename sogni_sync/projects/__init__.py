"""Media projects: ``client.projects.create(...)`` → :class:`Project` → result URLs."""

from sogni_sync.projects._api import ProjectsApi, as_completed, wait_all
from sogni_sync.projects._events import (
    ErrorData,
    JobCompletedEvent,
    JobEtaEvent,
    JobFailedEvent,
    JobPreviewEvent,
    JobProgressEvent,
    JobStartedEvent,
    ProjectCanceledEvent,
    ProjectCompletedEvent,
    ProjectEvent,
    ProjectFailedEvent,
    ProjectQueuedEvent,
    ProjectUpdatedEvent,
)
from sogni_sync.projects._project import Job, Project

__all__ = [
    "ErrorData",
    "Job",
    "JobCompletedEvent",
    "JobEtaEvent",
    "JobFailedEvent",
    "JobPreviewEvent",
    "JobProgressEvent",
    "JobStartedEvent",
    "Project",
    "ProjectCanceledEvent",
    "ProjectCompletedEvent",
    "ProjectEvent",
    "ProjectFailedEvent",
    "ProjectQueuedEvent",
    "ProjectUpdatedEvent",
    "ProjectsApi",
    "as_completed",
    "wait_all",
]
