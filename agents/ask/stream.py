"""`ask` in a worker thread, for the app to show the model's words as they come."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Any

from agents.ask.answer import Answer
from agents.ask.pipeline import ask
from agents.resources import Resources
from agents.store.users import User


class AnswerStream:
    """`ask` in a worker thread, its model tokens readable as they come (st.write_stream).

    The app's generator runs in Streamlit's script thread and only reads the queue; the worker
    never touches Streamlit. `result()` returns the logged Answer.
    """

    _END = object()

    def __init__(self, question: object, user: str | User, resources: Resources,
                 **options: Any) -> None:
        self._queue: queue.Queue[object] = queue.Queue()
        self._answer: Answer | None = None
        self._ended = False
        self._thread = threading.Thread(target=self._run, args=(question, user, resources,
                                                                 options), daemon=True)
        self._thread.start()

    def _run(self, question: object, user: str | User, resources: Resources,
             options: dict[str, Any]) -> None:
        try:
            self._answer = ask(question, user, resources, on_token=self._queue.put, **options)
        finally:
            self._queue.put(self._END)

    def tokens(self) -> Iterator[str]:
        while not self._ended:
            item = self._queue.get()
            if item is self._END:
                self._ended = True
                return
            yield str(item)

    def result(self) -> Answer:
        for _ in self.tokens():  # drain what the caller did not read
            pass
        self._thread.join()
        assert self._answer is not None  # ask() always returns an Answer
        return self._answer
