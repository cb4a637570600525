-- Minimal config for the headless end-to-end test: this repository's lsp/ folder on
-- the runtimepath and nothing from the user's configuration.
local here = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h')
local plugin_root = vim.fn.fnamemodify(here, ':h')
vim.opt.runtimepath:prepend(plugin_root)
vim.opt.swapfile = false
vim.opt.shadafile = 'NONE'

local binary = os.getenv('STACKAUDIT_BIN')
if not binary or binary == '' then
  io.stderr:write('STACKAUDIT_BIN is not set\n')
  vim.cmd('cquit 2')
end
-- The editors README's own example of init_options.
vim.lsp.config('stackaudit', {
  cmd = { binary, 'server' },
  init_options = { severity = { ['blocking-io-in-async'] = 'error' } },
})
vim.lsp.enable('stackaudit')
