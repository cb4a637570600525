; `<receiver>.commit(...)`; the check keeps only calls without arguments (a session or
; DB-API connection commit), so git-style `commit("message")` is left alone.
(call
  function: (attribute
    object: (_) @receiver
    attribute: (identifier) @method)
  arguments: (argument_list) @arguments
  (#eq? @method "commit")) @commit
