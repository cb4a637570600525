; Every `environment:` entry of a compose file, block or flow style.
(block_mapping_pair
  key: (flow_node) @key
  value: (_) @environment
  (#eq? @key "environment"))
(flow_pair
  key: (flow_node) @key
  value: (_) @environment
  (#eq? @key "environment"))
