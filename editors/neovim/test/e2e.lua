-- End-to-end: stackaudit's diagnostics reach vim.diagnostic with the severity that
-- init_options set, the project's stackaudit.toml `ignore` holds in the editor, a quick
-- fix applies through vim.lsp.buf.code_action, the README's fix-all-on-save snippet
-- fixes the file before it is written, and compose files are audited.
-- Run by editors/neovim/test/run.sh; exits non-zero on any failure.

local workdir = assert(os.getenv('STACKAUDIT_TEST_DIR'), 'STACKAUDIT_TEST_DIR is not set')
local here = vim.fn.fnamemodify(debug.getinfo(1, 'S').source:sub(2), ':p:h')

local function fail(message)
  io.stderr:write('FAIL: ' .. message .. '\n')
  vim.cmd('cquit 1')
end

local function read(path)
  local file = assert(io.open(path, 'rb'))
  local text = file:read('*a')
  file:close()
  return text
end

local function stackaudit_diagnostics(buffer)
  return vim.tbl_filter(function(diagnostic)
    return diagnostic.source == 'stackaudit'
  end, vim.diagnostic.get(buffer))
end

local function wait_for_diagnostics(buffer, what)
  local ok = vim.wait(20000, function()
    return #stackaudit_diagnostics(buffer) > 0
  end, 50)
  if not ok then
    fail('no stackaudit diagnostics for ' .. what .. ' within 20 s')
  end
  return stackaudit_diagnostics(buffer)
end

local function run()
  -- 1. Python: the finding, its quick fix, the file on disk.
  local python_path = workdir .. '/app.py'
  vim.cmd('edit ' .. vim.fn.fnameescape(python_path))
  local buffer = vim.api.nvim_get_current_buf()
  if vim.bo[buffer].filetype ~= 'python' then
    fail('filetype is ' .. vim.bo[buffer].filetype)
  end
  local diagnostics = wait_for_diagnostics(buffer, 'app.py')
  if #diagnostics ~= 1 then
    fail('expected 1 diagnostic, got ' .. vim.inspect(diagnostics))
  end
  local diagnostic = diagnostics[1]
  if diagnostic.code ~= 'blocking-io-in-async' or diagnostic.lnum ~= 4 or diagnostic.col ~= 4 then
    fail('unexpected diagnostic ' .. vim.inspect(diagnostic))
  end
  if diagnostic.message ~= '`time.sleep` blocks the event loop inside `async def handler`' then
    fail('unexpected message ' .. diagnostic.message)
  end
  -- init.lua sets this rule's severity in init_options, the editors README's example;
  -- the config's `settings` (sent after start-up) must not drop it.
  if diagnostic.severity ~= vim.diagnostic.severity.ERROR then
    fail('init_options severity lost: ' .. vim.inspect(diagnostic))
  end

  vim.api.nvim_win_set_cursor(0, { diagnostic.lnum + 1, diagnostic.col })
  vim.lsp.buf.code_action({
    apply = true,
    filter = function(action)
      return action.title == 'Replace with `await asyncio.sleep(...)`'
    end,
  })
  local fixed = vim.wait(10000, function()
    return vim.api.nvim_buf_get_lines(buffer, 5, 6, false)[1] == '    await asyncio.sleep(1)'
  end, 50)
  if not fixed then
    fail('the quick fix did not change the buffer: ' .. vim.inspect(vim.api.nvim_buf_get_lines(buffer, 0, -1, false)))
  end
  vim.cmd('silent write')
  local expected = 'import asyncio\nimport time\n\n\nasync def handler():\n    await asyncio.sleep(1)\n    return 1\n'
  local on_disk = read(python_path)
  if on_disk ~= expected then
    fail('file on disk is\n' .. on_disk)
  end
  -- The finding is gone once the server has seen the edit.
  local cleared = vim.wait(10000, function()
    return #stackaudit_diagnostics(buffer) == 0
  end, 50)
  if not cleared then
    fail('the finding survived its fix: ' .. vim.inspect(stackaudit_diagnostics(buffer)))
  end

  -- 2. The project's stackaudit.toml ignores http-without-timeout: only the blocking
  -- call is reported, though the editor sent settings of its own.
  vim.cmd('edit ' .. vim.fn.fnameescape(workdir .. '/fetch.py'))
  local fetch = vim.api.nvim_get_current_buf()
  local fetch_diagnostics = wait_for_diagnostics(fetch, 'fetch.py')
  local codes = vim.tbl_map(function(found)
    return found.code
  end, fetch_diagnostics)
  if not vim.deep_equal(codes, { 'blocking-io-in-async' }) then
    fail('stackaudit.toml ignore not honoured: ' .. vim.inspect(fetch_diagnostics))
  end

  -- 3. Fix all on save, with the snippet exactly as editors/neovim/README.md gives it.
  local readme = read(here .. '/../README.md')
  local section = readme:match('## Fix all on save(.-)\n## ')
  local snippet = section and section:match('```lua\n(.-)```')
  if not snippet then
    fail('no lua snippet under "## Fix all on save" in editors/neovim/README.md')
  end
  assert(load(snippet, 'README fix-all-on-save snippet'))()
  local save_path = workdir .. '/save.py'
  vim.cmd('edit ' .. vim.fn.fnameescape(save_path))
  local save = vim.api.nvim_get_current_buf()
  wait_for_diagnostics(save, 'save.py')
  vim.cmd('silent write')
  local saved = 'import asyncio\nimport time\n\n\nasync def poll():\n    await asyncio.sleep(2)\n'
  if read(save_path) ~= saved then
    fail('fix all on save: file on disk is\n' .. read(save_path))
  end
  if vim.bo[save].modified then
    fail('fix all on save left the buffer modified')
  end

  -- 4. Compose: Neovim's `yaml.docker-compose` filetype reaches the server.
  vim.cmd('edit ' .. vim.fn.fnameescape(workdir .. '/docker-compose.yml'))
  local compose = vim.api.nvim_get_current_buf()
  local compose_diagnostics = wait_for_diagnostics(compose, 'docker-compose.yml')
  local found = compose_diagnostics[1]
  if #compose_diagnostics ~= 1 or found.code ~= 'docker-hardcoded-secret' or found.lnum ~= 3 then
    fail('unexpected compose diagnostics ' .. vim.inspect(compose_diagnostics))
  end

  io.stdout:write("neovim e2e: ok (compose filetype: " .. vim.bo[compose].filetype .. ")\n")
  vim.cmd('qall!')
end

local ok, error = pcall(run)
if not ok then
  fail(tostring(error))
end
