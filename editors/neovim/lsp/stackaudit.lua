-- stackaudit for Neovim 0.11+: put this folder on 'runtimepath' (or copy this file to
-- ~/.config/nvim/lsp/stackaudit.lua), then `vim.lsp.enable('stackaudit')`.
-- Override any field with `vim.lsp.config('stackaudit', { ... })`.

---@type vim.lsp.Config
return {
  cmd = { 'stackaudit', 'server' },
  filetypes = {
    'python',
    'typescriptreact',
    'typescript',
    'javascriptreact',
    'javascript',
    'sql',
    'dockerfile',
    'yaml.docker-compose',
    -- Plain YAML too: the server audits it only when its name says it is a compose file.
    'yaml',
  },
  root_markers = { 'stackaudit.toml', 'pyproject.toml', '.git' },
  -- Read at startup: select, ignore, severity = { [rule] = 'error'|'warning'|'info'|'hint' },
  -- redis = { defaultTtlSeconds = 3600 }. They apply over stackaudit.toml.
  init_options = {},
  -- Sent with workspace/didChangeConfiguration: the same keys under `stackaudit`.
  settings = { stackaudit = {} },
}
