#!/usr/bin/env python3
"""A small calculator REPL: the program the example scripts talk to.

    > 1 + 2            = 3
    > let x = 6 * 7    x = 42
    > x / 0            (stderr) error: division by zero
    > exit 3           leaves with exit code 3
    > quit             bye

On a terminal it greets the user first and shows a running total in the
prompt, as many tools change their manners when a person is watching.
"""
import ast
import operator
import sys

OPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,
    ast.Div: operator.floordiv,
    ast.Mod: operator.mod,
}


def evaluate(node, names):
    if isinstance(node, ast.Expression):
        return evaluate(node.body, names)
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in names:
            raise ValueError(f"unknown name {node.id}")
        return names[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -evaluate(node.operand, names)
    if isinstance(node, ast.BinOp) and type(node.op) in OPS:
        left, right = evaluate(node.left, names), evaluate(node.right, names)
        if isinstance(node.op, (ast.Div, ast.FloorDiv, ast.Mod)) and right == 0:
            raise ValueError("division by zero")
        return OPS[type(node.op)](left, right)
    raise ValueError("not an expression I know")


def main():
    terminal = sys.stdin.isatty()
    names = {}
    if terminal:
        print("calc 1.0: integers, + - * / %, let NAME = EXPR, quit")
    while True:
        prompt = f"[{len(names)} names] > " if terminal else "> "
        print(prompt, end="", flush=True)
        line = sys.stdin.readline()
        if not line:
            print("bye", flush=True)
            return 0
        line = line.strip()
        if line == "quit":
            print("bye", flush=True)
            return 0
        if line.startswith("exit "):
            return int(line.split()[1])
        try:
            if line.startswith("let "):
                name, _, expr = line[4:].partition("=")
                name = name.strip()
                if not name.isidentifier():
                    raise ValueError(f"bad name {name!r}")
                names[name] = evaluate(ast.parse(expr.strip(), mode="eval"), names)
                print(f"{name} = {names[name]}", flush=True)
            elif line:
                value = evaluate(ast.parse(line, mode="eval"), names)
                print(f"= {value}", flush=True)
        except (ValueError, SyntaxError) as e:
            message = e.msg if isinstance(e, SyntaxError) else str(e)
            print(f"error: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
