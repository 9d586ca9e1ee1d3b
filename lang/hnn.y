/*
 * The .hnn grammar (see lang/SPEC.md for the language it defines).
 *
 * A pure, reentrant parser: all state is in the hnn_parser passed in, the
 * scanner handle comes through %param. Actions are single calls into the
 * hnn_ast_* builders; what names mean (layer kinds, options, hints) is checked
 * later by sema, so this grammar is small and every layer shares one syntax.
 *
 * Syntax errors are reported by yyreport_syntax_error below ("unexpected X;
 * expected Y or Z", with a keyword suggestion), and recovery resumes at the next
 * ';' so that one run reports several errors.
 */

%require "3.8"
%define api.pure full
%define api.prefix {hnn_yy}
%define api.token.prefix {HNN_TOK_}
%define api.location.type {hnn_loc}
%define parse.error custom
%define parse.lac full
%locations
%expect 0

%param {void *scanner}
%parse-param {hnn_parser *p}

%code requires {
#include <stdbool.h>
#include "front/ast.h"
#include "front/loc.h"
typedef struct hnn_parser hnn_parser;

/* A location covering the whole right-hand side; an empty rule sits at the end
 * of what precedes it. */
#define YYLLOC_DEFAULT(cur, rhs, n)                                          \
    do {                                                                     \
        if (n) {                                                             \
            (cur).file = YYRHSLOC(rhs, 1).file;                              \
            (cur).begin = YYRHSLOC(rhs, 1).begin;                            \
            (cur).end = YYRHSLOC(rhs, n).end;                                \
        } else {                                                             \
            (cur).file = YYRHSLOC(rhs, 0).file;                              \
            (cur).begin = (cur).end = YYRHSLOC(rhs, 0).end;                  \
        }                                                                    \
    } while (0)

/* Lists are built in order with a tail pointer. */
typedef struct hnn_yy_values { hnn_ast_value *head, *tail; } hnn_yy_values;
typedef struct hnn_yy_args { hnn_ast_arg *head, *tail; } hnn_yy_args;
typedef struct hnn_yy_settings { hnn_ast_setting *head, *tail; } hnn_yy_settings;
typedef struct hnn_yy_stmts { hnn_ast_stmt *head, *tail; } hnn_yy_stmts;
}

%code provides {
int hnn_yylex(HNN_YYSTYPE *lval, HNN_YYLTYPE *lloc, void *scanner);
}

%code {
#include <string.h>
#include "front/parse.h"

static void hnn_yyerror(HNN_YYLTYPE *loc, void *scanner, hnn_parser *p, const char *msg);

#define ARENA (p->lex.arena)
}

%union {
    const char *str;
    struct { double value; bool is_integer; } num;
    hnn_ast_value *value;
    hnn_ast_arg *arg;
    hnn_ast_stmt *stmt;
    hnn_ast_setting *setting;
    hnn_ast_model *model;
    hnn_yy_values values;
    hnn_yy_args args;
    hnn_yy_settings settings;
    hnn_yy_stmts stmts;
}

/* ------------------------------------------------------------------ tokens */
%token MODEL "model" INPUT "input" WEIGHTS "weights" LAYER "layer"
%token OUTPUT "output" HINTS "hints" TRAIN "train" RANGE "range"
%token <str> IDENT "name" STRING "string"
%token <num> NUMBER "number"

%type <model> model
%type <stmts> stmts
%type <stmt> stmt
%type <settings> settings
%type <setting> setting
%type <values> values items
%type <value> value number signed call range
%type <args> args
%type <arg> arg

%%

/* ------------------------------------------------------------------ model */
file
    : model                         { p->result = $1; }
    ;

model
    : "model" IDENT '{' stmts '}'   { $$ = hnn_ast_model_new(ARENA, @$, $2, @2, $4.head); }
    ;

stmts
    : %empty                        { $$.head = $$.tail = NULL; }
    | stmts stmt                    {
                                        $$ = $1;
                                        if ($$.tail) $$.tail->next = $2; else $$.head = $2;
                                        $$.tail = $2;
                                    }
    | stmts error ';'               { $$ = $1; yyerrok; }
    ;

/* ------------------------------------------------------------------ statements */
stmt
    : "input" IDENT ':' call range ';'
                                    {
                                        $$ = hnn_ast_stmt_new(ARENA, HNN_AST_INPUT, @$);
                                        $$->name = $2; $$->name_loc = @2;
                                        $$->value = $4; $$->range = $5; $$->range_loc = @5;
                                        $$->keyword_loc = @1;
                                    }
    | "input" call range ';'        {
                                        $$ = hnn_ast_stmt_new(ARENA, HNN_AST_INPUT, @$);
                                        $$->value = $2; $$->range = $3; $$->range_loc = @3;
                                        $$->keyword_loc = @1;
                                    }
    | "weights" value ';'           {
                                        $$ = hnn_ast_stmt_new(ARENA, HNN_AST_WEIGHTS, @$);
                                        $$->value = $2; $$->keyword_loc = @1;
                                    }
    | "layer" IDENT '=' call ';'    {
                                        $$ = hnn_ast_stmt_new(ARENA, HNN_AST_LAYER, @$);
                                        $$->name = $2; $$->name_loc = @2; $$->value = $4;
                                        $$->keyword_loc = @1;
                                    }
    | "layer" call ';'              {
                                        $$ = hnn_ast_stmt_new(ARENA, HNN_AST_LAYER, @$);
                                        $$->value = $2; $$->keyword_loc = @1;
                                    }
    | "output" value ';'            {
                                        $$ = hnn_ast_stmt_new(ARENA, HNN_AST_OUTPUT, @$);
                                        $$->value = $2; $$->keyword_loc = @1;
                                    }
    | "hints" '{' settings '}'      {
                                        $$ = hnn_ast_stmt_new(ARENA, HNN_AST_HINTS, @$);
                                        $$->settings = $3.head; $$->keyword_loc = @1;
                                    }
    | "train" '{' settings '}'      {
                                        $$ = hnn_ast_stmt_new(ARENA, HNN_AST_TRAIN, @$);
                                        $$->settings = $3.head; $$->keyword_loc = @1;
                                    }
    ;

/* The input's value range: `range [lo, hi]`; sema checks the list. */
range
    : %empty                        { $$ = NULL; }
    | "range" value                 { $$ = $2; }
    ;

/* ------------------------------------------------------------------ hints and train */
settings
    : %empty                        { $$.head = $$.tail = NULL; }
    | settings setting              {
                                        $$ = $1;
                                        if ($$.tail) $$.tail->next = $2; else $$.head = $2;
                                        $$.tail = $2;
                                    }
    | settings error ';'            { $$ = $1; yyerrok; }
    ;

setting
    : IDENT values ';'              { $$ = hnn_ast_setting_new(ARENA, @$, $1, @1, $2.head); }
    | IDENT ';'                     { $$ = hnn_ast_setting_new(ARENA, @$, $1, @1, NULL); }
    ;

values
    : value                         { $$.head = $$.tail = $1; }
    | values value                  { $$ = $1; $$.tail->next = $2; $$.tail = $2; }
    ;

/* ------------------------------------------------------------------ values */
call
    : IDENT '(' ')'                 { $$ = hnn_ast_call(ARENA, @$, $1, @1, NULL); }
    | IDENT '(' args ')'            { $$ = hnn_ast_call(ARENA, @$, $1, @1, $3.head); }
    ;

args
    : arg                           { $$.head = $$.tail = $1; }
    | args ',' arg                  { $$ = $1; $$.tail->next = $3; $$.tail = $3; }
    ;

/* Positional (`x`, `8`) or named (`stride 2`, `T 0.5`). */
arg
    : value                         { $$ = hnn_ast_arg_new(ARENA, @$, NULL, @$, $1); }
    | IDENT value                   { $$ = hnn_ast_arg_new(ARENA, @$, $1, @1, $2); }
    ;

value
    : signed
    | IDENT                         { $$ = hnn_ast_name(ARENA, @$, $1); }
    | "input"                       { $$ = hnn_ast_name(ARENA, @$, "input"); } /* an unnamed input */
    | STRING                        { $$ = hnn_ast_string(ARENA, @$, $1); }
    | '[' ']'                       { $$ = hnn_ast_list(ARENA, @$, NULL); }
    | '[' items ']'                 { $$ = hnn_ast_list(ARENA, @$, $2.head); }
    | call
    ;

items
    : value                         { $$.head = $$.tail = $1; }
    | items ',' value               { $$ = $1; $$.tail->next = $3; $$.tail = $3; }
    ;

signed
    : number
    | '-' number                    { $$ = hnn_ast_negate($2, @$); }
    ;

/* 2^14 and 2^-3 are numbers too: ring dimensions and scales read best that way. */
number
    : NUMBER                        { $$ = hnn_ast_number(ARENA, @$, $1.value, $1.is_integer); }
    | NUMBER '^' NUMBER             {
                                        $$ = hnn_ast_power(ARENA, @$,
                                                 hnn_ast_number(ARENA, @1, $1.value, $1.is_integer),
                                                 hnn_ast_number(ARENA, @3, $3.value, $3.is_integer));
                                    }
    | NUMBER '^' '-' NUMBER         {
                                        $$ = hnn_ast_power(ARENA, @$,
                                                 hnn_ast_number(ARENA, @1, $1.value, $1.is_integer),
                                                 hnn_ast_number(ARENA, @4, -$4.value, $4.is_integer));
                                    }
    ;

%%

#include "front/parse_error.h"

static void
hnn_yyerror(HNN_YYLTYPE *loc, void *scanner, hnn_parser *p, const char *msg)
{
    (void)scanner;
    /* Only bison's own failures come here ("memory exhausted"); syntax errors
     * go through yyreport_syntax_error. */
    hnn_parse_error_plain(p, *loc, msg);
}

static int
yyreport_syntax_error(const yypcontext_t *ctx, void *scanner, hnn_parser *p)
{
    (void)scanner;
    yysymbol_kind_t expected[YYNTOKENS];
    int n = yypcontext_expected_tokens(ctx, expected, YYNTOKENS);
    if (n < 0)
        n = 0;
    hnn_parse_expected exp[YYNTOKENS];
    for (int i = 0; i < n; i++) {
        exp[i].name = yysymbol_name(expected[i]);
        exp[i].is_keyword = expected[i] >= YYSYMBOL_MODEL && expected[i] <= YYSYMBOL_RANGE;
    }
    yysymbol_kind_t got = yypcontext_token(ctx);
    hnn_parse_error_syntax(p, *yypcontext_location(ctx), yysymbol_name(got),
                           got >= YYSYMBOL_MODEL && got <= YYSYMBOL_RANGE,
                           got == YYSYMBOL_IDENT || got == YYSYMBOL_NUMBER || got == YYSYMBOL_STRING,
                           exp, (size_t)n);
    return 0;
}
