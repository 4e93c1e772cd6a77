"""`ColRetIndex.as_chat_engine`: LlamaIndex's chat engines over our grounded retriever.

``condense_plus_context`` (also ``best``, the default) and ``context`` retrieve region nodes for every turn;
``condense_question`` rewrites the question from the history and asks `as_query_engine`; ``simple`` chats
with the LLM alone. Keywords are split between the retriever and the engine's ``from_defaults``; an unknown
one is a TypeError before anything runs.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.chat_engine import (
    CondensePlusContextChatEngine,
    CondenseQuestionChatEngine,
    ContextChatEngine,
    SimpleChatEngine,
)
from llama_index.core.chat_engine.types import BaseChatEngine, ChatMode
from llama_index.core.llms.utils import resolve_llm
from llama_index.core.settings import Settings

from .options import check_known, named_parameters, rename_deprecated, retriever_names, split

_ENGINES: dict[ChatMode, type[BaseChatEngine]] = {
    ChatMode.BEST: CondensePlusContextChatEngine,
    ChatMode.CONDENSE_PLUS_CONTEXT: CondensePlusContextChatEngine,
    ChatMode.CONTEXT: ContextChatEngine,
    ChatMode.CONDENSE_QUESTION: CondenseQuestionChatEngine,
    ChatMode.SIMPLE: SimpleChatEngine,
}


def chat_engine(index: Any, mode: ChatMode, llm: Any, kwargs: dict[str, Any]) -> BaseChatEngine:
    """The chat engine of ``mode`` over ``index`` (a `ColRetIndex`); ``llm`` None: ``Settings.llm``."""
    engine_cls = _ENGINES.get(mode)
    if engine_cls is None:
        valid = ", ".join(m.value for m in _ENGINES)
        raise ValueError(f"chat mode {mode.value!r} is not supported; valid: {valid}")
    kwargs = rename_deprecated(kwargs, stacklevel=4)
    engine_args = named_parameters(engine_cls.from_defaults, skip=("retriever", "query_engine", "llm"))
    check_known(kwargs, retriever_names() | engine_args, f"ColRetIndex.as_chat_engine({mode.value!r})")
    mine, rest = split(kwargs, retriever_names() - {"verbose"})
    if "verbose" in kwargs:
        mine["verbose"] = kwargs["verbose"]
        if "verbose" not in engine_args:
            rest.pop("verbose")
    resolved = resolve_llm(llm, callback_manager=index.callback_manager) if llm is not None else Settings.llm
    if engine_cls is SimpleChatEngine:
        return SimpleChatEngine.from_defaults(llm=resolved, **rest)
    if engine_cls is CondenseQuestionChatEngine:
        engine = index.as_query_engine(llm=resolved, **mine)
        return CondenseQuestionChatEngine.from_defaults(query_engine=engine, llm=resolved, **rest)
    return engine_cls.from_defaults(retriever=index.as_retriever(**mine), llm=resolved, **rest)  # type: ignore[attr-defined]
