-- stackaudit for Neovim 0.11+: put this folder on 'runtimepath' (or copy this file to
-- ~/.config/nvim/lsp/stackaudit.lua), then `vim.lsp.enable('stackaudit')`.
-- Override any field with `vim.lsp.config('stackaudit', { ... })`.

---@type vim.lsp.Config
return {
  cmd = { 'stackaudit', 'server' },
  -- Exactly the filetypes the server audits; the list grows as languages land.
  filetypes = {
    'python',
    'dockerfile',
    'yaml.docker-compose',
    -- Plain YAML too: Neovim gives docker-compose.yml this filetype, and the server
    -- audits a YAML file only when its name says it is a compose file.
    'yaml',
    'sql',
  },
  root_markers = { 'stackaudit.toml', 'pyproject.toml', '.git' },
  -- Read at startup: select, ignore, severity = { [rule] = 'error'|'warning'|'info'|'hint' },
  -- redis = { defaultTtlSeconds = 900 }, http = { defaultTimeoutSeconds = 10 },
  -- generatedFiles = 'security'|'all',
  -- configurationPreference = 'editorFirst'|'filesystemFirst'|'editorOnly'.
  -- Only the keys you set apply; the rest come from the project's stackaudit.toml.
  init_options = {},
  -- Sent with workspace/didChangeConfiguration: the same keys under `stackaudit`. The
  -- server merges them key by key over init_options (null unsets a key), so leaving
  -- this empty keeps init_options as they are.
  settings = { stackaudit = {} },
}
