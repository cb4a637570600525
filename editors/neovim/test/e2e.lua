-- End-to-end: stackaudit's diagnostics reach vim.diagnostic, a quick fix applies
-- through vim.lsp.buf.code_action, and the written file has the fixed text.
-- Run by editors/neovim/test/run.sh; exits non-zero on any failure.

local workdir = assert(os.getenv('STACKAUDIT_TEST_DIR'), 'STACKAUDIT_TEST_DIR is not set')

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
  local expected = 'import time\nimport asyncio\n\n\nasync def handler():\n    await asyncio.sleep(1)\n    return 1\n'
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

  -- 2. Compose: Neovim's `yaml.docker-compose` filetype reaches the server.
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
