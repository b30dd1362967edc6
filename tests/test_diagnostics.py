"""The diagnostics parsers on real compiler and runtime output (no server, no Docker).

Each case's stderr was captured from the sandbox image (the runner had already removed its work
dir from the paths, as it does for every run), with the program that produced it. The expected
marks were checked by hand against the program: right line, right character column.
"""

# The captured output is kept as the tools wrote it: gcc's typographic quotes, long lines.
# ruff: noqa: RUF001, E501

from __future__ import annotations

from typing import NamedTuple

import pytest

from codyskool.diagnostics import (
    MAX_ITEMS,
    MAX_MESSAGE_CHARS,
    PARSERS,
    marker_column,
    parse_diagnostics,
)
from codyskool.languages import load_languages

LANGUAGES = load_languages()


class Case(NamedTuple):
    name: str
    language: str
    code: str
    stderr: str
    expected: list[tuple[int, int | None, str, str]]


# fmt: off
CASES = [
    # a syntax error, and a warning gcc gives with it
    Case(
        "gcc_syntax",
        "c",
        code=(
            "#include <stdio.h>\n"
            "\n"
            "int main(void) {\n"
            "    int x = 1\n"
            "    printf(\"%d\\n\", x);\n"
            "    return 0;\n"
            "}\n"
        ),
        stderr=(
            "main.c: In function ‘main’:\n"
            "main.c:5:5: error: expected ‘,’ or ‘;’ before ‘printf’\n"
            "    5 |     printf(\"%d\\n\", x);\n"
            "      |     ^~~~~~\n"
            "main.c:4:9: warning: unused variable ‘x’ [-Wunused-variable]\n"
            "    4 |     int x = 1\n"
            "      |         ^\n"
        ),
        expected=[(5, 5, "error", "expected ‘,’ or ‘;’ before ‘printf’"), (4, 9, "warning", "unused variable ‘x’ [-Wunused-variable]")],
    ),
    # an undeclared name; gcc's note about it is not a mark
    Case(
        "gcc_undeclared",
        "c",
        code=(
            "#include <stdio.h>\n"
            "\n"
            "int main(void) {\n"
            "    printf(\"%d\\n\", count);\n"
            "    return 0;\n"
            "}\n"
        ),
        stderr=(
            "main.c: In function ‘main’:\n"
            "main.c:4:20: error: ‘count’ undeclared (first use in this function)\n"
            "    4 |     printf(\"%d\\n\", count);\n"
            "      |                    ^~~~~\n"
            "main.c:4:20: note: each undeclared identifier is reported only once for each function it appears in\n"
        ),
        expected=[(4, 20, "error", "‘count’ undeclared (first use in this function)")],
    ),
    # a warning only: the program still runs
    Case(
        "gcc_warning_runs",
        "c",
        code=(
            "#include <stdio.h>\n"
            "\n"
            "int main(void) {\n"
            "    int unused;\n"
            "    printf(\"ok\\n\");\n"
            "    return 0;\n"
            "}\n"
        ),
        stderr=(
            "main.c: In function ‘main’:\n"
            "main.c:4:9: warning: unused variable ‘unused’ [-Wunused-variable]\n"
            "    4 |     int unused;\n"
            "      |         ^~~~~~\n"
        ),
        expected=[(4, 9, "warning", "unused variable ‘unused’ [-Wunused-variable]")],
    ),
    # fatal error
    Case(
        "gcc_missing_header",
        "c",
        code=(
            "#include <nothere.h>\n"
            "\n"
            "int main(void) {\n"
            "    return 0;\n"
            "}\n"
        ),
        stderr=(
            "main.c:1:10: fatal error: nothere.h: No such file or directory\n"
            "    1 | #include <nothere.h>\n"
            "      |          ^~~~~~~~~~~\n"
            "compilation terminated.\n"
        ),
        expected=[(1, 10, "error", "nothere.h: No such file or directory")],
    ),
    # the note pointing at the earlier declaration is not a mark
    Case(
        "gcc_conflicting_types",
        "c",
        code=(
            "#include <stdio.h>\n"
            "\n"
            "int f(int x);\n"
            "\n"
            "double f(int x) {\n"
            "    return x;\n"
            "}\n"
            "\n"
            "int main(void) {\n"
            "    return (int) f(1);\n"
            "}\n"
        ),
        stderr=(
            "main.c:5:8: error: conflicting types for ‘f’; have ‘double(int)’\n"
            "    5 | double f(int x) {\n"
            "      |        ^\n"
            "main.c:3:5: note: previous declaration of ‘f’ with type ‘int(int)’\n"
            "    3 | int f(int x);\n"
            "      |     ^\n"
        ),
        expected=[(5, 8, "error", "conflicting types for ‘f’; have ‘double(int)’")],
    ),
    # byte column 23 of a line with a tab, é and ✓ is character 20
    Case(
        "gcc_tab_utf8",
        "c",
        code=(
            "#include <stdio.h>\n"
            "\n"
            "int main(void) {\n"
            "\tprintf(\"é✓ %d\\n\", missing);\n"
            "\treturn 0;\n"
            "}\n"
        ),
        stderr=(
            "main.c: In function ‘main’:\n"
            "main.c:4:23: error: ‘missing’ undeclared (first use in this function)\n"
            "    4 |         printf(\"é✓ %d\\n\", missing);\n"
            "      |                           ^~~~~~~\n"
            "main.c:4:23: note: each undeclared identifier is reported only once for each function it appears in\n"
        ),
        expected=[(4, 20, "error", "‘missing’ undeclared (first use in this function)")],
    ),
    # a linker error names no line
    Case(
        "gcc_link_error",
        "c",
        code=(
            "#include <stdio.h>\n"
            "\n"
            "void helper(void);\n"
            "\n"
            "int main(void) {\n"
            "    helper();\n"
            "    return 0;\n"
            "}\n"
        ),
        stderr=(
            "/usr/bin/ld: /tmp/cc0aaykY.o: in function `main':\n"
            "main.c:(.text.startup+0x5): undefined reference to `helper'\n"
            "collect2: error: ld returned 1 exit status\n"
        ),
        expected=[],
    ),
    Case(
        "gxx_undeclared",
        "cpp",
        code=(
            "#include <iostream>\n"
            "\n"
            "int main() {\n"
            "    std::cout << undefined_name << std::endl;\n"
            "    return 0;\n"
            "}\n"
        ),
        stderr=(
            "main.cpp: In function ‘int main()’:\n"
            "main.cpp:4:18: error: ‘undefined_name’ was not declared in this scope\n"
            "    4 |     std::cout << undefined_name << std::endl;\n"
            "      |                  ^~~~~~~~~~~~~~\n"
        ),
        expected=[(4, 18, "error", "‘undefined_name’ was not declared in this scope")],
    ),
    Case(
        "gxx_missing_semicolon_class",
        "cpp",
        code=(
            "#include <iostream>\n"
            "\n"
            "class Box {\n"
            "    int size;\n"
            "}\n"
            "\n"
            "int main() {\n"
            "    Box b;\n"
            "    return 0;\n"
            "}\n"
        ),
        stderr=(
            "main.cpp:5:2: error: expected ‘;’ after class definition\n"
            "    5 | }\n"
            "      |  ^\n"
            "      |  ;\n"
            "main.cpp: In function ‘int main()’:\n"
            "main.cpp:8:9: warning: unused variable ‘b’ [-Wunused-variable]\n"
            "    8 |     Box b;\n"
            "      |         ^\n"
        ),
        expected=[(5, 2, "error", "expected ‘;’ after class definition"), (8, 9, "warning", "unused variable ‘b’ [-Wunused-variable]")],
    ),
    # an error inside the library is pinned to the program's `required from here`
    Case(
        "gxx_template",
        "cpp",
        code=(
            "#include <algorithm>\n"
            "#include <vector>\n"
            "\n"
            "struct Point { int x, y; };\n"
            "\n"
            "int main() {\n"
            "    std::vector<Point> points{{1, 2}, {0, 1}};\n"
            "    std::sort(points.begin(), points.end());\n"
            "    return 0;\n"
            "}\n"
        ),
        stderr=(
            "In file included from /usr/include/c++/12/bits/stl_algobase.h:71,\n"
            "                 from /usr/include/c++/12/algorithm:60,\n"
            "                 from main.cpp:1:\n"
            "/usr/include/c++/12/bits/predefined_ops.h: In instantiation of ‘constexpr bool __gnu_cxx::__ops::_Iter_less_iter::operator()(_Iterator1, _Iterator2) const [with _Iterator1 = __gnu_cxx::__normal_iterator<Point*, std::vector<Point> >; _Iterator2 = __gnu_cxx::__normal_iterator<Point*, std::vector<Point> >]’:\n"
            "/usr/include/c++/12/bits/stl_algo.h:1809:14:   required from ‘constexpr void std::__insertion_sort(_RandomAccessIterator, _RandomAccessIterator, _Compare) [with _RandomAccessIterator = __gnu_cxx::__normal_iterator<Point*, vector<Point> >; _Compare = __gnu_cxx::__ops::_Iter_less_iter]’\n"
            "/usr/include/c++/12/bits/stl_algo.h:1849:25:   required from ‘constexpr void std::__final_insertion_sort(_RandomAccessIterator, _RandomAccessIterator, _Compare) [with _RandomAccessIterator = __gnu_cxx::__normal_iterator<Point*, vector<Point> >; _Compare = __gnu_cxx::__ops::_Iter_less_iter]’\n"
            "/usr/include/c++/12/bits/stl_algo.h:1940:31:   required from ‘constexpr void std::__sort(_RandomAccessIterator, _RandomAccessIterator, _Compare) [with _RandomAccessIterator = __gnu_cxx::__normal_iterator<Point*, vector<Point> >; _Compare = __gnu_cxx::__ops::_Iter_less_iter]’\n"
            "/usr/include/c++/12/bits/stl_algo.h:4820:18:   required from ‘constexpr void std::sort(_RAIter, _RAIter) [with _RAIter = __gnu_cxx::__normal_iterator<Point*, vector<Point> >]’\n"
            "main.cpp:8:14:   required from here\n"
            "/usr/include/c++/12/bits/predefined_ops.h:45:23: error: no match for ‘operator<’ (operand types are ‘Point’ and ‘Point’)\n"
            "   45 |       { return *__it1 < *__it2; }\n"
            "      |                ~~~~~~~^~~~~~~~\n"
            "In file included from /usr/include/c++/12/bits/stl_algobase.h:67:\n"
            "/usr/include/c++/12/bits/stl_iterator.h:1185:5: note: candidate: ‘template<class _IteratorL, class _IteratorR, class _Container> constexpr std::__detail::__synth3way_t<_IteratorR, _IteratorL> __gnu_cxx::operator<=>(const __normal_iterator<_IteratorL, _Container>&, const __normal_iterator<_IteratorR, _Container>&)’ (reversed)\n"
            " 1185 |     operator<=>(const __normal_iterator<_IteratorL, _Container>& __lhs,\n"
            "      |     ^~~~~~~~\n"
            "/usr/include/c++/12/bits/stl_iterator.h:1185:5: note:   template argument deduction/substitution failed:\n"
            "/usr/include/c++/12/bits/predefined_ops.h:45:23: note:   ‘Point’ is not derived from ‘const __gnu_cxx::__normal_iterator<_IteratorL, _Container>’\n"
            "   45 |       { return *__it1 < *__it2; }\n"
            "      |                ~~~~~~~^~~~~~~~\n"
            "/usr/include/c++/12/bits/stl_iterator.h:1204:5: note: candidate: ‘template<class _Iterator, class _Container> constexpr std::__detail::__synth3way_t<_T1> __gnu_cxx::operator<=>(const __normal_iterator<_Iterator, _Container>&, const __normal_iterator<_Iterator, _Container>&)’ (rewritten)\n"
            " 1204 |     operator<=>(const __normal_iterator<_Iterator, _Container>& __lhs,\n"
            "      |     ^~~~~~~~\n"
            "/usr/include/c++/12/bits/stl_iterator.h:1204:5: note:   template argument deduction/substitution failed:\n"
            "/usr/include/c++/12/bits/predefined_ops.h:45:23: note:   ‘Point’ is not derived from ‘const __gnu_cxx::__normal_iterator<_Iterator, _Container>’\n"
            "   45 |       { return *__it1 < *__it2; }\n"
            "      |                ~~~~~~~^~~~~~~~\n"
        ),
        expected=[(8, 14, "error", "no match for ‘operator<’ (operand types are ‘Point’ and ‘Point’)")],
    ),
    Case(
        "javac_semicolon",
        "java",
        code=(
            "public class Main {\n"
            "    public static void main(String[] args) {\n"
            "        int x = 5;\n"
            "        System.out.println(x)\n"
            "    }\n"
            "}\n"
        ),
        stderr=(
            "Main.java:4: error: ';' expected\n"
            "        System.out.println(x)\n"
            "                             ^\n"
            "1 error\n"
        ),
        expected=[(4, 30, "error", "';' expected")],
    ),
    # the symbol javac could not find joins the message
    Case(
        "javac_symbol",
        "java",
        code=(
            "public class Main {\n"
            "    public static void main(String[] args) {\n"
            "        int total = 0;\n"
            "        System.out.println(totl + 1);\n"
            "        String s = 42;\n"
            "    }\n"
            "}\n"
        ),
        stderr=(
            "Main.java:4: error: cannot find symbol\n"
            "        System.out.println(totl + 1);\n"
            "                           ^\n"
            "  symbol:   variable totl\n"
            "  location: class Main\n"
            "Main.java:5: error: incompatible types: int cannot be converted to String\n"
            "        String s = 42;\n"
            "                   ^\n"
            "2 errors\n"
        ),
        expected=[(4, 28, "error", "cannot find symbol: variable totl"), (5, 20, "error", "incompatible types: int cannot be converted to String")],
    ),
    Case(
        "javac_class_name",
        "java",
        code=(
            "public class Hello {\n"
            "    public static void main(String[] args) {\n"
            "        System.out.println(\"hi\");\n"
            "    }\n"
            "}\n"
        ),
        stderr=(
            "Main.java:1: error: class Hello is public, should be declared in a file named Hello.java\n"
            "public class Hello {\n"
            "       ^\n"
            "1 error\n"
        ),
        expected=[(1, 8, "error", "class Hello is public, should be declared in a file named Hello.java")],
    ),
    # javac's marker copies the tabs of the line
    Case(
        "javac_tab",
        "java",
        code=(
            "public class Main {\n"
            "\tpublic static void main(String[] args) {\n"
            "\t\tint x = \"s\";\n"
            "\t}\n"
            "}\n"
        ),
        stderr=(
            "Main.java:3: error: incompatible types: String cannot be converted to int\n"
            "\t\tint x = \"s\";\n"
            "\t\t        ^\n"
            "1 error\n"
        ),
        expected=[(3, 11, "error", "incompatible types: String cannot be converted to int")],
    ),
    Case(
        "java_runtime",
        "java",
        code=(
            "public class Main {\n"
            "    static int f(int[] a) {\n"
            "        return a[5];\n"
            "    }\n"
            "\n"
            "    public static void main(String[] args) {\n"
            "        System.out.println(f(new int[2]));\n"
            "    }\n"
            "}\n"
        ),
        stderr=(
            "Exception in thread \"main\" java.lang.ArrayIndexOutOfBoundsException: Index 5 out of bounds for length 2\n"
            "\tat Main.f(Main.java:3)\n"
            "\tat Main.main(Main.java:7)\n"
        ),
        expected=[(3, None, "error", "java.lang.ArrayIndexOutOfBoundsException: Index 5 out of bounds for length 2")],
    ),
    # frames inside the JDK are skipped
    Case(
        "java_jdk_frame",
        "java",
        code=(
            "import java.util.*;\n"
            "\n"
            "public class Main {\n"
            "    public static void main(String[] args) {\n"
            "        List<Integer> xs = new ArrayList<>();\n"
            "        System.out.println(xs.get(3));\n"
            "    }\n"
            "}\n"
        ),
        stderr=(
            "Exception in thread \"main\" java.lang.IndexOutOfBoundsException: Index 3 out of bounds for length 0\n"
            "\tat java.base/jdk.internal.util.Preconditions.outOfBounds(Preconditions.java:64)\n"
            "\tat java.base/jdk.internal.util.Preconditions.outOfBoundsCheckIndex(Preconditions.java:70)\n"
            "\tat java.base/jdk.internal.util.Preconditions.checkIndex(Preconditions.java:266)\n"
            "\tat java.base/java.util.Objects.checkIndex(Objects.java:361)\n"
            "\tat java.base/java.util.ArrayList.get(ArrayList.java:427)\n"
            "\tat Main.main(Main.java:6)\n"
        ),
        expected=[(6, None, "error", "java.lang.IndexOutOfBoundsException: Index 3 out of bounds for length 0")],
    ),
    # another class in Main.java
    Case(
        "java_other_class",
        "java",
        code=(
            "class Helper {\n"
            "    static String shout(String s) {\n"
            "        return s.toUpperCase();\n"
            "    }\n"
            "}\n"
            "\n"
            "public class Main {\n"
            "    public static void main(String[] args) {\n"
            "        System.out.println(Helper.shout(null));\n"
            "    }\n"
            "}\n"
        ),
        stderr=(
            "Exception in thread \"main\" java.lang.NullPointerException: Cannot invoke \"String.toUpperCase()\" because \"<parameter1>\" is null\n"
            "\tat Helper.shout(Main.java:3)\n"
            "\tat Main.main(Main.java:9)\n"
        ),
        expected=[(3, None, "error", "java.lang.NullPointerException: Cannot invoke \"String.toUpperCase()\" because \"<parameter1>\" is null")],
    ),
    # the exception and its cause, each at its own line
    Case(
        "java_caused_by",
        "java",
        code=(
            "public class Main {\n"
            "    static int divide(int a, int b) {\n"
            "        return a / b;\n"
            "    }\n"
            "\n"
            "    public static void main(String[] args) {\n"
            "        try {\n"
            "            divide(1, 0);\n"
            "        } catch (ArithmeticException e) {\n"
            "            throw new IllegalStateException(\"could not divide\", e);\n"
            "        }\n"
            "    }\n"
            "}\n"
        ),
        stderr=(
            "Exception in thread \"main\" java.lang.IllegalStateException: could not divide\n"
            "\tat Main.main(Main.java:10)\n"
            "Caused by: java.lang.ArithmeticException: / by zero\n"
            "\tat Main.divide(Main.java:3)\n"
            "\tat Main.main(Main.java:8)\n"
        ),
        expected=[(10, None, "error", "java.lang.IllegalStateException: could not divide"), (3, None, "error", "Caused by: java.lang.ArithmeticException: / by zero")],
    ),
    Case(
        "node_syntax",
        "javascript",
        code=(
            "console.log(\"a\");\n"
            "let x = ;\n"
        ),
        stderr=(
            "main.js:2\n"
            "let x = ;\n"
            "        ^\n"
            "\n"
            "SyntaxError: Unexpected token ';'\n"
            "    at internalCompileFunction (node:internal/vm:76:18)\n"
            "    at wrapSafe (node:internal/modules/cjs/loader:1283:20)\n"
            "    at Module._compile (node:internal/modules/cjs/loader:1328:27)\n"
            "    at Module._extensions..js (node:internal/modules/cjs/loader:1422:10)\n"
            "    at Module.load (node:internal/modules/cjs/loader:1203:32)\n"
            "    at Module._load (node:internal/modules/cjs/loader:1019:12)\n"
            "    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:128:12)\n"
            "    at node:internal/main/run_main_module:28:49\n"
            "\n"
            "Node.js v18.20.4\n"
        ),
        expected=[(2, 9, "error", "SyntaxError: Unexpected token ';'")],
    ),
    Case(
        "node_unterminated",
        "javascript",
        code=(
            "function f() {\n"
            "  console.log(\"x\");\n"
        ),
        stderr=(
            "main.js:3\n"
            "\n"
            "\n"
            "\n"
            "SyntaxError: Unexpected end of input\n"
            "    at internalCompileFunction (node:internal/vm:76:18)\n"
            "    at wrapSafe (node:internal/modules/cjs/loader:1283:20)\n"
            "    at Module._compile (node:internal/modules/cjs/loader:1328:27)\n"
            "    at Module._extensions..js (node:internal/modules/cjs/loader:1422:10)\n"
            "    at Module.load (node:internal/modules/cjs/loader:1203:32)\n"
            "    at Module._load (node:internal/modules/cjs/loader:1019:12)\n"
            "    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:128:12)\n"
            "    at node:internal/main/run_main_module:28:49\n"
            "\n"
            "Node.js v18.20.4\n"
        ),
        expected=[(3, None, "error", "SyntaxError: Unexpected end of input")],
    ),
    Case(
        "node_reference",
        "javascript",
        code=(
            "function f() {\n"
            "  return missing + 1;\n"
            "}\n"
            "f();\n"
        ),
        stderr=(
            "main.js:2\n"
            "  return missing + 1;\n"
            "  ^\n"
            "\n"
            "ReferenceError: missing is not defined\n"
            "    at f (main.js:2:3)\n"
            "    at Object.<anonymous> (main.js:4:1)\n"
            "    at Module._compile (node:internal/modules/cjs/loader:1364:14)\n"
            "    at Module._extensions..js (node:internal/modules/cjs/loader:1422:10)\n"
            "    at Module.load (node:internal/modules/cjs/loader:1203:32)\n"
            "    at Module._load (node:internal/modules/cjs/loader:1019:12)\n"
            "    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:128:12)\n"
            "    at node:internal/main/run_main_module:28:49\n"
            "\n"
            "Node.js v18.20.4\n"
        ),
        expected=[(2, 3, "error", "ReferenceError: missing is not defined")],
    ),
    Case(
        "node_tab",
        "javascript",
        code=(
            "function f() {\n"
            "\tif (true) {\n"
            "\t\treturn nope.x;\n"
            "\t}\n"
            "}\n"
            "f();\n"
        ),
        stderr=(
            "main.js:3\n"
            "\t\treturn nope.x;\n"
            "\t\t^\n"
            "\n"
            "ReferenceError: nope is not defined\n"
            "    at f (main.js:3:3)\n"
            "    at Object.<anonymous> (main.js:6:1)\n"
            "    at Module._compile (node:internal/modules/cjs/loader:1364:14)\n"
            "    at Module._extensions..js (node:internal/modules/cjs/loader:1422:10)\n"
            "    at Module.load (node:internal/modules/cjs/loader:1203:32)\n"
            "    at Module._load (node:internal/modules/cjs/loader:1019:12)\n"
            "    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:128:12)\n"
            "    at node:internal/main/run_main_module:28:49\n"
            "\n"
            "Node.js v18.20.4\n"
        ),
        expected=[(3, 3, "error", "ReferenceError: nope is not defined")],
    ),
    # thrown inside Node: the program's first frame places it
    Case(
        "node_json",
        "javascript",
        code=(
            "const text = \"{\";\n"
            "const data = JSON.parse(text);\n"
            "console.log(data);\n"
        ),
        stderr=(
            "undefined:1\n"
            "{\n"
            "\n"
            "SyntaxError: Unexpected end of JSON input\n"
            "    at JSON.parse (<anonymous>)\n"
            "    at Object.<anonymous> (main.js:2:19)\n"
            "    at Module._compile (node:internal/modules/cjs/loader:1364:14)\n"
            "    at Module._extensions..js (node:internal/modules/cjs/loader:1422:10)\n"
            "    at Module.load (node:internal/modules/cjs/loader:1203:32)\n"
            "    at Module._load (node:internal/modules/cjs/loader:1019:12)\n"
            "    at Function.executeUserEntryPoint [as runMain] (node:internal/modules/run_main:128:12)\n"
            "    at node:internal/main/run_main_module:28:49\n"
            "\n"
            "Node.js v18.20.4\n"
        ),
        expected=[(2, 19, "error", "SyntaxError: Unexpected end of JSON input")],
    ),
    # a thrown string
    Case(
        "node_throw_string",
        "javascript",
        code=(
            "console.log(\"before\");\n"
            "throw \"boom\";\n"
        ),
        stderr=(
            "\n"
            "main.js:2\n"
            "throw \"boom\";\n"
            "^\n"
            "boom\n"
            "(Use `node --trace-uncaught ...` to show where the exception was thrown)\n"
            "\n"
            "Node.js v18.20.4\n"
        ),
        expected=[(2, 1, "error", "boom")],
    ),
    Case(
        "node_async",
        "javascript",
        code=(
            "async function main() {\n"
            "  await null;\n"
            "  throw new Error(\"async failure\");\n"
            "}\n"
            "main();\n"
        ),
        stderr=(
            "main.js:3\n"
            "  throw new Error(\"async failure\");\n"
            "        ^\n"
            "\n"
            "Error: async failure\n"
            "    at main (main.js:3:9)\n"
            "\n"
            "Node.js v18.20.4\n"
        ),
        expected=[(3, 9, "error", "Error: async failure")],
    ),
    Case(
        "node_timer",
        "javascript",
        code=(
            "setTimeout(() => {\n"
            "  null.length;\n"
            "}, 10);\n"
        ),
        stderr=(
            "main.js:2\n"
            "  null.length;\n"
            "       ^\n"
            "\n"
            "TypeError: Cannot read properties of null (reading 'length')\n"
            "    at Timeout._onTimeout (main.js:2:8)\n"
            "    at listOnTimeout (node:internal/timers:569:17)\n"
            "    at process.processTimers (node:internal/timers:512:7)\n"
            "\n"
            "Node.js v18.20.4\n"
        ),
        expected=[(2, 8, "error", "TypeError: Cannot read properties of null (reading 'length')")],
    ),
    Case(
        "ruby_syntax",
        "ruby",
        code=(
            "puts \"a\"\n"
            "def f(\n"
            "  1 +\n"
            "end\n"
        ),
        stderr=(
            "main.rb:3: syntax error, unexpected integer literal, expecting ')'\n"
            "  1 +\n"
            "  ^\n"
        ),
        expected=[(3, 3, "error", "syntax error, unexpected integer literal, expecting ')'")],
    ),
    Case(
        "ruby_syntax_end",
        "ruby",
        code=(
            "def greet(name)\n"
            "  puts \"Hi #{name}\"\n"
            "\n"
            "greet(\"Ada\")\n"
        ),
        stderr=(
            "main.rb:4: syntax error, unexpected end-of-input, expecting `end'\n"
            "greet(\"Ada\")\n"
            "            ^\n"
        ),
        expected=[(4, 13, "error", "syntax error, unexpected end-of-input, expecting `end'")],
    ),
    # every syntax error, each with its column
    Case(
        "ruby_deep_syntax",
        "ruby",
        code=(
            "def f(x)\n"
            "      y = (1 +\n"
            "      )\n"
            "      puts y +* 2\n"
            "end\n"
        ),
        stderr=(
            "main.rb:3: syntax error, unexpected ')'\n"
            "      )\n"
            "      ^\n"
            "main.rb:4: syntax error, unexpected *\n"
            "      puts y +* 2\n"
            "              ^\n"
        ),
        expected=[(3, 7, "error", "syntax error, unexpected ')'"), (4, 15, "error", "syntax error, unexpected *")],
    ),
    # error_highlight's marker gives the column
    Case(
        "ruby_nomethod",
        "ruby",
        code=(
            "def f(x)\n"
            "  x.nope\n"
            "end\n"
            "\n"
            "f(3)\n"
        ),
        stderr=(
            "main.rb:2:in `f': undefined method `nope' for 3:Integer (NoMethodError)\n"
            "\n"
            "  x.nope\n"
            "   ^^^^^\n"
            "\tfrom main.rb:5:in `<main>'\n"
        ),
        expected=[(2, 4, "error", "undefined method `nope' for 3:Integer (NoMethodError)")],
    ),
    Case(
        "ruby_deep",
        "ruby",
        code=(
            "def f(x)\n"
            "  if x\n"
            "      x.nope\n"
            "  end\n"
            "end\n"
            "f(3)\n"
        ),
        stderr=(
            "main.rb:3:in `f': undefined method `nope' for 3:Integer (NoMethodError)\n"
            "\n"
            "      x.nope\n"
            "       ^^^^^\n"
            "\tfrom main.rb:6:in `<main>'\n"
        ),
        expected=[(3, 8, "error", "undefined method `nope' for 3:Integer (NoMethodError)")],
    ),
    Case(
        "ruby_raise",
        "ruby",
        code=(
            "puts \"start\"\n"
            "raise ArgumentError, \"bad value\"\n"
        ),
        stderr=(
            "main.rb:2:in `<main>': bad value (ArgumentError)\n"
        ),
        expected=[(2, None, "error", "bad value (ArgumentError)")],
    ),
    Case(
        "ruby_zero",
        "ruby",
        code=(
            "def ratio(a, b)\n"
            "  a / b\n"
            "end\n"
            "\n"
            "puts ratio(1, 0)\n"
        ),
        stderr=(
            "main.rb:2:in `/': divided by 0 (ZeroDivisionError)\n"
            "\tfrom main.rb:2:in `ratio'\n"
            "\tfrom main.rb:5:in `<main>'\n"
        ),
        expected=[(2, None, "error", "divided by 0 (ZeroDivisionError)")],
    ),
    # raised inside a library: the program's first frame places it
    Case(
        "ruby_lib_frame",
        "ruby",
        code=(
            "require \"json\"\n"
            "data = JSON.parse(\"{\")\n"
            "puts data\n"
        ),
        stderr=(
            "/usr/lib/ruby/3.1.0/json/common.rb:216:in `parse': 859: unexpected token at '{' (JSON::ParserError)\n"
            "\tfrom /usr/lib/ruby/3.1.0/json/common.rb:216:in `parse'\n"
            "\tfrom main.rb:2:in `<main>'\n"
        ),
        expected=[(2, None, "error", "859: unexpected token at '{' (JSON::ParserError)")],
    ),
    Case(
        "ruby_warning",
        "ruby",
        code=(
            "x = 5\n"
            "if x = 3\n"
            "  puts x\n"
            "end\n"
        ),
        stderr=(
            "main.rb:2: warning: found `= literal' in conditional, should be ==\n"
        ),
        expected=[(2, None, "warning", "found `= literal' in conditional, should be ==")],
    ),
    Case(
        "bash_eof",
        "bash",
        code=(
            "echo hi\n"
            "if true; then\n"
            "  echo x\n"
        ),
        stderr=(
            "main.sh: line 4: syntax error: unexpected end of file\n"
        ),
        expected=[(4, None, "error", "syntax error: unexpected end of file")],
    ),
    # bash echoes the line after a syntax error: not a second mark
    Case(
        "bash_unexpected_token",
        "bash",
        code=(
            "echo start\n"
            "if [ 1 -eq 1 ]\n"
            "  echo yes\n"
            "fi\n"
        ),
        stderr=(
            "main.sh: line 4: syntax error near unexpected token `fi'\n"
            "main.sh: line 4: `fi'\n"
        ),
        expected=[(4, None, "error", "syntax error near unexpected token `fi'")],
    ),
    Case(
        "bash_syntax_near",
        "bash",
        code=(
            "for i in 1 2; do\n"
            "  echo $i\n"
            "done done\n"
        ),
        stderr=(
            "main.sh: line 3: syntax error near unexpected token `done'\n"
            "main.sh: line 3: `done done'\n"
        ),
        expected=[(3, None, "error", "syntax error near unexpected token `done'")],
    ),
    Case(
        "bash_not_found",
        "bash",
        code=(
            "echo start\n"
            "nosuchcommand arg\n"
            "exit 3\n"
        ),
        stderr=(
            "main.sh: line 2: nosuchcommand: command not found\n"
        ),
        expected=[(2, None, "error", "nosuchcommand: command not found")],
    ),
    Case(
        "bash_unbound",
        "bash",
        code=(
            "set -u\n"
            "echo \"start\"\n"
            "echo \"$undefined_var\"\n"
        ),
        stderr=(
            "main.sh: line 3: undefined_var: unbound variable\n"
        ),
        expected=[(3, None, "error", "undefined_var: unbound variable")],
    ),
    Case(
        "bash_arith",
        "bash",
        code=(
            "x=0\n"
            "echo $((10 / x))\n"
        ),
        stderr=(
            "main.sh: line 2: 10 / x: division by 0 (error token is \"x\")\n"
        ),
        expected=[(2, None, "error", "10 / x: division by 0 (error token is \"x\")")],
    ),
    Case(
        "bash_heredoc_warning",
        "bash",
        code=(
            "cat <<EOF\n"
            "hello\n"
        ),
        stderr=(
            "main.sh: line 2: warning: here-document at line 1 delimited by end-of-file (wanted `EOF')\n"
        ),
        expected=[(2, None, "warning", "here-document at line 1 delimited by end-of-file (wanted `EOF')")],
    ),
    # Python re-indents the line it quotes: the column is the program's
    Case(
        "python_syntax",
        "python",
        code=(
            "print(1)\n"
            "x = (\n"
        ),
        stderr=(
            "  File \"main.py\", line 2\n"
            "    x = (\n"
            "        ^\n"
            "SyntaxError: '(' was never closed\n"
        ),
        expected=[(2, 5, "error", "SyntaxError: '(' was never closed")],
    ),
    Case(
        "python_deep_syntax",
        "python",
        code=(
            "def f(x):\n"
            "    if x:\n"
            "        y = (1,\n"
            "        return y]\n"
        ),
        stderr=(
            "  File \"main.py\", line 4\n"
            "    return y]\n"
            "            ^\n"
            "SyntaxError: closing parenthesis ']' does not match opening parenthesis '(' on line 3\n"
        ),
        expected=[(4, 17, "error", "SyntaxError: closing parenthesis ']' does not match opening parenthesis '(' on line 3")],
    ),
    Case(
        "python_indent",
        "python",
        code=(
            "def f():\n"
            "return 1\n"
        ),
        stderr=(
            "  File \"main.py\", line 2\n"
            "    return 1\n"
            "    ^^^^^^\n"
            "IndentationError: expected an indented block after function definition on line 1\n"
        ),
        expected=[(2, 1, "error", "IndentationError: expected an indented block after function definition on line 1")],
    ),
    Case(
        "python_runtime",
        "python",
        code=(
            "def f():\n"
            "    return 1/0\n"
            "\n"
            "f()\n"
        ),
        stderr=(
            "Traceback (most recent call last):\n"
            "  File \"main.py\", line 4, in <module>\n"
            "    f()\n"
            "  File \"main.py\", line 2, in f\n"
            "    return 1/0\n"
            "           ~^~\n"
            "ZeroDivisionError: division by zero\n"
        ),
        expected=[(2, 12, "error", "ZeroDivisionError: division by zero")],
    ),
    Case(
        "python_deep",
        "python",
        code=(
            "def f(x):\n"
            "    if x:\n"
            "        if x:\n"
            "            return x / 0\n"
            "\n"
            "f(1)\n"
        ),
        stderr=(
            "Traceback (most recent call last):\n"
            "  File \"main.py\", line 6, in <module>\n"
            "    f(1)\n"
            "  File \"main.py\", line 4, in f\n"
            "    return x / 0\n"
            "           ~~^~~\n"
            "ZeroDivisionError: division by zero\n"
        ),
        expected=[(4, 20, "error", "ZeroDivisionError: division by zero")],
    ),
    # the exception that ended the program
    Case(
        "python_chained",
        "python",
        code=(
            "def f():\n"
            "    try:\n"
            "        return {}[\"k\"]\n"
            "    except KeyError:\n"
            "        raise ValueError(\"no key\")\n"
            "\n"
            "f()\n"
        ),
        stderr=(
            "Traceback (most recent call last):\n"
            "  File \"main.py\", line 3, in f\n"
            "    return {}[\"k\"]\n"
            "           ~~^^^^^\n"
            "KeyError: 'k'\n"
            "\n"
            "During handling of the above exception, another exception occurred:\n"
            "\n"
            "Traceback (most recent call last):\n"
            "  File \"main.py\", line 7, in <module>\n"
            "    f()\n"
            "  File \"main.py\", line 5, in f\n"
            "    raise ValueError(\"no key\")\n"
            "ValueError: no key\n"
        ),
        expected=[(5, None, "error", "ValueError: no key")],
    ),
]
# fmt: on


def marks(language: str, stderr: str, code: str) -> list[tuple[int, int | None, str, str]]:
    found = parse_diagnostics(LANGUAGES[language], stderr, code)
    return [(d["line"], d["column"], d["severity"], d["message"]) for d in found]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_captured_output(case: Case) -> None:
    assert marks(case.language, case.stderr, case.code) == case.expected


def test_every_language_names_a_parser_and_every_parser_has_cases() -> None:
    for language in LANGUAGES.values():
        assert language.diagnostics in PARSERS, language.id
    covered = {LANGUAGES[case.language].diagnostics for case in CASES}
    assert covered == set(PARSERS)


def test_no_sandbox_paths_in_messages() -> None:
    for case in CASES:
        for _, _, _, message in marks(case.language, case.stderr, case.code):
            assert "/work/" not in message and "/opt/codyskool" not in message, (case.name, message)


def test_columns_point_at_the_program_text() -> None:
    """Where a column is given, it is inside the program's line (1 past the end at most)."""
    for case in CASES:
        lines = case.code.split("\n")
        for line, column, _, _ in marks(case.language, case.stderr, case.code):
            if column is not None:
                assert 1 <= column <= len(lines[line - 1]) + 1, (case.name, line, column)


def test_marks_outside_the_program_are_dropped() -> None:
    stderr = "main.c:9:1: error: expected declaration or statement at end of input\n"
    assert marks("c", stderr, "int main(void) {\n") == []
    assert marks("c", stderr, "\n" * 8 + "x") == [
        (9, 1, "error", "expected declaration or statement at end of input")
    ]
    other_file = "helper.c:2:1: error: unknown type name 'x'\n"
    assert marks("c", other_file, "a\nb\n") == []


def test_no_stderr_no_marks() -> None:
    for language in LANGUAGES:
        assert parse_diagnostics(LANGUAGES[language], "", "print(1)") == []


def test_long_messages_are_cut_and_repeats_merged() -> None:
    message = "x" * (MAX_MESSAGE_CHARS * 3)
    stderr = f"main.c:1:1: error: {message}\n" * 3 + "main.c:1:1: error: other\n"
    found = marks("c", stderr, "int x\n")
    assert [(line, column, len(text)) for line, column, _, text in found] == [
        (1, 1, MAX_MESSAGE_CHARS),
        (1, 1, len("other")),
    ]
    many = "".join(f"main.c:{n}:1: error: e{n}\n" for n in range(1, 200))
    assert len(marks("c", many, "\n" * 300)) == MAX_ITEMS


@pytest.mark.parametrize(
    ("quote", "marker", "source_line", "column"),
    [
        ("    x = (", "        ^", "x = (", 5),  # python: its own 4-space indent, none in the program
        ("    return y]", "            ^", "        return y]", 17),  # python: re-indented
        ("\t\tint x = 1;", "\t\t    ^", "\t\tint x = 1;", 7),  # javac: tabs copied
        ("  x.nope", "   ^^^^^", "  x.nope", 4),  # quoted as it is
        ("something else", "  ^", "int y;", 3),  # not the program's line: the marker as it is
    ],
)
def test_marker_column(quote: str, marker: str, source_line: str, column: int) -> None:
    assert marker_column([quote, marker], 0, source_line) == column


def test_no_marker_no_column() -> None:
    assert marker_column(["    f()", "ValueError: x"], 0, "f()") is None
    assert marker_column(["    f()"], 0, "f()") is None
