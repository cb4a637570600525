; Every `async def`; the check walks its body (not nested `def`, `lambda` or `class`)
; for calls that block.
(function_definition
  "async"
  name: (identifier) @name
  body: (block) @body) @function
