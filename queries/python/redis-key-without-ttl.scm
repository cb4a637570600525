; A redis-py write that can create a key; the check keeps calls whose receiver is a
; known client or pipeline and that set no expiry.
(call
  function: (attribute
    object: (_) @receiver
    attribute: (identifier) @method)
  arguments: (argument_list) @arguments
  (#any-of? @method
    "set" "setnx" "mset" "hset" "hmset" "lpush" "rpush" "sadd" "zadd"
    "incr" "incrby" "incrbyfloat" "append" "xadd" "pfadd")) @write
