"""The reference evaluator: a direct walk of the syntax tree, one record at a time.

This is the plain statement of the semantics — every node calls the matching ``Ops`` function
from values.py, nothing is specialised. ``mpql.evaluate`` uses it (one record, where compiling
would cost more than it saves), and the property tests use it as the oracle that the compiled
predicates (compiler.py) must agree with on every expression and record hypothesis finds.
"""

from __future__ import annotations

from ..errors import ArgumentTypeError, EvaluationError
from ..language import ast as A
from .records import Resolver
from .values import ARITH_METHODS, COMPARE_METHODS, FUNCTION_METHODS, Ops, Undefined

__all__ = ["Interpreter", "Tracer", "unbound_variable"]

_UNSET = object()


def unbound_variable(node: A.Var) -> EvaluationError:
    return EvaluationError(
        f"variable `{node.name}` is not bound: it names a list element only inside the "
        f"condition of any({node.name}, list, condition)", node=node)


class Interpreter:
    """Evaluates expressions against records with one ``Ops`` and ``Resolver``."""

    def __init__(self, ops: Ops, resolver: Resolver, now: int | None) -> None:
        self.ops = ops
        self.resolver = resolver
        self.now = now
        self.env: dict = {}  # any(...) variables in scope: name -> current element

    def value(self, node: A.Expr, record, props):
        return self._eval(node, record, props)

    def _eval(self, node, record, props):
        ops = self.ops
        t = type(node)
        if t is A.Property:
            return self.resolver.read(record, props, node.scope, node.name)
        if t is A.String or t is A.Number or t is A.Boolean:
            return node.value
        if t is A.Now:
            if self.now is None:
                return Undefined
            return self.now
        if t is A.ListLiteral:
            return [self._eval(item, record, props) for item in node.items]
        if t is A.Compare:
            a = self._eval(node.left, record, props)
            b = self._eval(node.right, record, props)
            return getattr(ops, COMPARE_METHODS[node.op])(a, b)
        if t is A.In:
            return ops.in_(self._eval(node.left, record, props), self._eval(node.right, record, props))
        if t is A.And:
            # Left to right, stopping at the first false operand: an operand after it is not
            # evaluated, so it cannot raise (docs/semantics.md, "Errors"). Chains are walked
            # flat, so a long builder-made chain cannot exhaust the stack.
            for operand in A.conjuncts(node):
                if not ops.truth(self._eval(operand, record, props), "and", operand):
                    return False
            return True
        if t is A.Or:
            for operand in A.disjuncts(node):
                if ops.truth(self._eval(operand, record, props), "or", operand):
                    return True
            return False
        if t is A.Not:
            return ops.not_(self._eval(node.operand, record, props))
        if t is A.Neg:
            return ops.neg(self._eval(node.operand, record, props))
        if t is A.Arith:
            # `a + b + c …` nests to the left; walk that spine with a loop, not recursion.
            spine = []
            while type(node) is A.Arith:
                spine.append(node)
                node = node.left
            value = self._eval(node, record, props)
            for step in reversed(spine):
                value = getattr(ops, ARITH_METHODS[step.op])(value, self._eval(step.right, record, props))
            return value
        if t is A.Call:
            return self._call(node, record, props)
        if t is A.Var:
            try:
                return self.env[node.name]
            except KeyError:
                raise unbound_variable(node) from None
        if t is A.Any:
            env, name = self.env, node.var
            outer = env.get(name, _UNSET)

            def test(element):
                env[name] = element
                return self._eval(node.predicate, record, props)

            try:
                return ops.any_(self._eval(node.items, record, props), test, node.predicate)
            finally:
                if outer is _UNSET:
                    env.pop(name, None)
                else:
                    env[name] = outer
        raise ArgumentTypeError(f"cannot evaluate {type(node).__name__} node")

    def _call(self, node: A.Call, record, props):
        ops = self.ops
        name = node.name
        args = [self._eval(a, record, props) for a in node.args]
        if name == "datetime":
            return ops.to_datetime(args[0], literal=type(node.args[0]) is A.String)
        if name == "string" and len(args) == 2:
            return ops.string_or(*args)
        method = FUNCTION_METHODS.get(name)
        if method is None:
            raise ArgumentTypeError(f"unknown function {name}()")
        return getattr(ops, method)(*args)


class Tracer(Interpreter):
    """The interpreter, recording every sub-expression it evaluates with its value.

    ``steps`` is ``[(depth, node, value)]`` in evaluation order (parents before children);
    a sub-expression that ``and``/``or`` did not need is absent. ``value`` is the exception
    for the step where an ``EvaluationError`` was raised.
    """

    def __init__(self, ops: Ops, resolver: Resolver, now) -> None:
        super().__init__(ops, resolver, now)
        self.steps: list = []
        self._depth = 0

    def _eval(self, node, record, props):
        step = [self._depth, node, Undefined]
        self.steps.append(step)
        self._depth += 1
        try:
            value = super()._eval(node, record, props)
        except Exception as exc:
            step[2] = exc
            raise
        finally:
            self._depth -= 1
        step[2] = value
        return value
