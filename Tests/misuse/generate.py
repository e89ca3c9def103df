#!/usr/bin/env python3
"""Writes a C program that calls every function of include/l2l.h with wrong arguments.

usage: generate.py PREPROCESSED_HEADER OUTPUT.c

The input is the header after `cc -E -P` (comments and macros gone). Every function it
declares is called, so a function added to the header is covered without anyone writing
a test for it. Each parameter is classified by its type:

  handle        `l2l_X *` / `const l2l_X *` of an opaque type: a fresh live handle
                (fixtures.c), NULL, a handle of another kind, or a freed one
  out handle    `l2l_X **`: the address of a slot, or NULL
  handle array  `const l2l_X *const *`: four live handles, or NULL
  pointer array `T *const *`: pointers into a zeroed scratch area, or NULL
  string        `const char *`: "", or NULL
  buffer        any other pointer: a zeroed scratch area of 16 MiB, or NULL
  callback      `l2l_*_fn`, and `void *user`: always NULL ("no callback")
  integer       int64_t / int32_t: 1, or a negative count (-1, INT64_MIN), or INT64_MAX; a
                parameter named *capacity also gets 0
  float         1, or NaN
  seed          uint64_t: 1

and each function is called with every pointer NULL, then with one pointer NULL at a
time, then with one handle of the wrong kind or freed, then with one integer negative
or one float NaN (every other argument valid). What each call must do:

  - return (no crash; under the ASan build, no sanitizer report either);
  - return a status in L2L_OK..L2L_ERR_INTERNAL; any failure leaves a last error that
    starts with the function's name and leaves every out-handle slot untouched;
  - fail with L2L_ERR_INVALID_ARGUMENT for a NULL, wrong-kind or freed handle (or a NULL
    out-handle), and fail for all pointers NULL, a negative integer and a NaN float (any
    status will do for INT64_MAX and for a NULL buffer, which may be optional);
  - l2l_*_free: do nothing for NULL, a freed handle (double free) or a handle of
    another kind; functions returning const char *: never return NULL.

Exceptions (a negative integer or a NULL handle that the header documents as accepted)
are listed in ACCEPTS below, each with its reason; those calls must still return.
"""

import re
import sys

#: (function, parameter) pairs where a negative integer or a NULL handle is documented input.
ACCEPTS = {
    ("l2l_status_string", "status"): "any int maps to a name, \"unknown status\" for unknown codes",
    ("l2l_meta_trainer_run", "trials"): "a negative count runs the remaining trials",
    ("l2l_mlhf_trainer_run", "iterations"): "a negative count runs the remaining iterations",
    ("l2l_mlhf_trainer_evaluate", "mlhf"): "NULL evaluates the trainer's current phi",
}


class Param:
    def __init__(self, text, handles, callbacks):
        text = text.strip()
        match = re.match(r"(.*?)(\w+)\s*$", text)
        self.type, self.name = match.group(1).strip(), match.group(2)
        base = re.sub(r"\bconst\b|\*", " ", self.type).split()
        self.base = base[0] if base else ""
        stars = self.type.count("*")
        if self.base in callbacks or (self.base == "void" and stars == 1):
            self.kind = "callback"
        elif self.base in handles and stars == 2 and "const *" in re.sub(r"\s+", " ", self.type):
            self.kind = "handle_array"
        elif self.base in handles and stars == 2:
            self.kind = "out_handle"
        elif self.base in handles and stars == 1:
            self.kind = "handle"
        elif stars == 2:
            self.kind = "pointer_array"
        elif stars == 1 and self.base == "char" and self.type.startswith("const"):
            self.kind = "string"
        elif stars == 1:
            self.kind = "buffer"
        elif self.base in ("int64_t", "int32_t", "l2l_status"):
            self.kind = "integer"
        elif self.base in ("float", "double"):
            self.kind = "float"
        elif self.base == "uint64_t":
            self.kind = "seed"
        else:
            sys.exit(f"generate.py: cannot classify parameter '{text}'; teach Param about its type")

    @property
    def is_pointer(self):
        return self.kind in ("handle", "out_handle", "handle_array", "pointer_array", "string", "buffer")


class Function:
    def __init__(self, result, name, params):
        self.result, self.name, self.params = result, name, params


def parse(text):
    """The opaque handle types, callback types and functions of a preprocessed header."""
    flat = re.sub(r"\s+", " ", text)
    handles = set(re.findall(r"typedef struct (l2l_\w+) \1 ?;", flat))
    callbacks = set(re.findall(r"\(\s*\*\s*(l2l_\w+)\s*\)", flat))
    functions = []
    for declaration in flat.split(";"):
        declaration = declaration.strip()
        if declaration.startswith("typedef"):
            continue
        match = re.match(r"(.*?)\b(l2l_\w+)\s*\((.*)\)$", declaration)
        if not match:
            continue
        result, name, args = match.groups()
        params = [] if args.strip() == "void" else [Param(a, handles, callbacks) for a in args.split(",")]
        functions.append(Function(result.strip(), name, params))
    return sorted(handles), functions


def freer(type_name, names):
    free = f"{type_name}_free"
    return free if free in names else None


def emit(handles, functions):
    names = {f.name for f in functions}
    out = []
    w = out.append
    w("/* Generated by Tests/misuse/generate.py from include/l2l.h: do not edit. */")
    w("#include <math.h>\n#include <stdint.h>\n#include <stdio.h>\n#include <string.h>\n")
    w('#include "l2l.h"\n#include "harness.h"\n')
    # One fresh fixture per (type, case), freed after the call.
    w("static void release(const char *type, void *h) {")
    for h in handles:
        free = freer(h, names)
        if free:
            w(f'    if (strcmp(type, "{h}") == 0) {{ {free}(({h} *)h); return; }}')
    w("}\n")
    for f in functions:
        emit_function(f, w)
    w("int main(void) {")
    w("    misuse_begin();")
    for f in functions:
        w(f"    misuse_{f.name}();")
    w("    return misuse_end();")
    w("}")
    return "\n".join(out) + "\n"


def other_kind(type_name):
    """A handle type other than `type_name` with a fixture: the 'wrong kind' argument."""
    return "l2l_dataset" if type_name != "l2l_dataset" else "l2l_learner"


def emit_function(f, w):
    """misuse_<name>(): every case of one function."""
    w(f"static void misuse_{f.name}(void) {{")
    if f.name.endswith("_free") and len(f.params) == 1 and f.params[0].kind == "handle":
        t = f.params[0].base
        w(f"    misuse_case(\"{f.name}(NULL)\"); {f.name}(NULL);")
        w(f'    {{ void *h = misuse_fixture("{t}"); {f.name}(({t} *)h); misuse_case("{f.name}(freed)"); {f.name}(({t} *)h); }}')
        other = other_kind(t)
        w(f'    {{ void *o = misuse_fixture("{other}"); misuse_case("{f.name}(a {other})"); {f.name}(({t} *)o); release("{other}", o); }}')
        w("}\n")
        return
    if f.result != "l2l_status":
        args = ", ".join(valid_expression(p, i) for i, p in enumerate(f.params))
        setup_fixtures(f, w)
        w(f'    misuse_case("{f.name}"); misuse_expect_text({f.name}({args}), "{f.name}");')
        free_fixtures(f, w)
        w("}\n")
        return
    cases = []
    pointers = [i for i, p in enumerate(f.params) if p.is_pointer]
    if pointers:
        cases.append(("every pointer NULL", {i: "NULL" for i in pointers}, "fail"))
    for i in pointers:
        p = f.params[i]
        required = p.kind in ("handle", "out_handle") and (f.name, p.name) not in ACCEPTS
        expect = "invalid" if required else "any"
        cases.append((f"{p.name} NULL", {i: "NULL"}, expect))
    for i, p in enumerate(f.params):
        if p.kind == "handle":
            other = other_kind(p.base)
            cases.append((f"{p.name} a {other}", {i: f"(void *)wrong_{i}"}, "invalid"))
            cases.append((f"{p.name} freed", {i: f"(void *)freed_{i}"}, "invalid"))
        elif p.kind == "integer":
            if (f.name, p.name) not in ACCEPTS:
                cases.append((f"{p.name} = -1", {i: "-1"}, "fail"))
                cases.append((f"{p.name} = INT64_MIN", {i: "INT64_MIN"}, "fail"))
            cases.append((f"{p.name} = INT64_MAX", {i: "INT64_MAX"}, "any"))
            if p.name.endswith("capacity"):
                cases.append((f"{p.name} = 0", {i: "0"}, "any"))
        elif p.kind == "float":
            cases.append((f"{p.name} = NaN", {i: "NAN"}, "fail"))
    for label, overrides, expect in cases:
        w("    {")
        setup_fixtures(f, w)
        for i, p in enumerate(f.params):
            if p.kind == "handle" and i in overrides and overrides[i].startswith("(void *)wrong"):
                w(f'        void *wrong_{i} = misuse_fixture("{other_kind(p.base)}");')
            if p.kind == "handle" and i in overrides and overrides[i].startswith("(void *)freed"):
                w(f'        void *freed_{i} = misuse_fixture("{p.base}"); release("{p.base}", freed_{i});')
        args = []
        for i, p in enumerate(f.params):
            value = overrides.get(i, valid_expression(p, i))
            args.append(f"({p.type})({value})" if value != "NULL" else "NULL")
        w(f'        misuse_case("{f.name}: {label}");')
        w(f"        l2l_status s = {f.name}({', '.join(args)});")
        slots = [f"slot_{i}" for i, p in enumerate(f.params) if p.kind == "out_handle"]
        w(f'        misuse_expect(s, "{f.name}", MISUSE_{expect.upper()}, {slots_unchanged(slots)});')
        for i, p in enumerate(f.params):
            if p.kind == "out_handle":
                w(f"        if (s == L2L_OK) release(\"{p.base}\", slot_{i});")
            if p.kind == "handle" and i in overrides and overrides[i].startswith("(void *)wrong"):
                w(f'        release("{other_kind(p.base)}", wrong_{i});')
        free_fixtures(f, w)
        w("    }")
    w("}\n")


def slots_unchanged(slots):
    return " && ".join(f"{s} == MISUSE_SENTINEL" for s in slots) if slots else "1"


def setup_fixtures(f, w):
    """Declarations of the valid value of every parameter that needs one."""
    for i, p in enumerate(f.params):
        if p.kind == "handle":
            w(f'        void *handle_{i} = misuse_fixture("{p.base}");')
        elif p.kind == "out_handle":
            w(f"        void *slot_{i} = MISUSE_SENTINEL;")
        elif p.kind == "handle_array":
            w(f'        void *array_{i}[4]; misuse_fixtures(array_{i}, 4, "{p.base}");')


def free_fixtures(f, w):
    for i, p in enumerate(f.params):
        if p.kind == "handle":
            w(f'        release("{p.base}", handle_{i});')
        elif p.kind == "handle_array":
            w(f'        for (int k = 0; k < 4; k++) release("{p.base}", array_{i}[k]);')


def valid_expression(p, i):
    return {
        "handle": f"handle_{i}",
        "out_handle": f"&slot_{i}",
        "handle_array": f"array_{i}",
        "pointer_array": "misuse_pointers",
        "string": '""',
        "buffer": "misuse_scratch",
        "callback": "NULL",
        "integer": "1",
        "float": "1.0f",
        "seed": "1",
    }[p.kind]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__.split("\n\n")[1])
    with open(sys.argv[1]) as f:
        handles, functions = parse(f.read())
    if not functions:
        sys.exit("generate.py: no l2l_* functions found")
    with open(sys.argv[2], "w") as f:
        f.write(emit(handles, functions))
    print(f"misuse: {len(functions)} functions, {len(handles)} handle types")


if __name__ == "__main__":
    main()
