-- wrk: online submissions with an upload by signed-in browsers (bench/submit_http.py runs it).
--
-- BENCH_SESSIONS names a file of signed-in browsers, one per line: the Cookie header, a tab, the
-- apply form's CSRF token. Each wrk thread takes every n-th of them and sends multipart POSTs
-- as a browser does (a new random boundary each time), each with a new idempotency key; every
-- fifth sends the previous key again (a retry or a double click, possibly while the first is
-- still on its way). At the end the keys sent and the case numbers acknowledged (the 302 to
-- /cases/<number>) are written to BENCH_OUT.sent and BENCH_OUT.acked for the database check.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  table.insert(threads, thread)
  counter = counter + 1
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end

local fields = {
  business_name = "北京市朝阳区张三便利店",
  composition = "个人经营",
  address = "北京市朝阳区示例路8号",
  scope = "日用百货零售",
  capital = "5",
  phone = "13800000001",
}
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
local browsers, pdf, path, run = {}, nil, nil, nil
local n, key = 0, nil
sent, acked, failed = {}, {}, 0

function init(args)
  local index, threads_total = 0, tonumber(os.getenv("BENCH_THREADS"))
  for line in io.lines(os.getenv("BENCH_SESSIONS")) do
    if index % threads_total == id then
      local cookie, token = line:match("^(.-)\t(.*)$")
      table.insert(browsers, { cookie = cookie, token = token })
    end
    index = index + 1
  end
  pdf = read(os.getenv("BENCH_PDF"))
  path = os.getenv("BENCH_PATH")
  run = os.getenv("BENCH_RUN")
  math.randomseed(os.time() * 100 + id)
end

local function boundary()
  local chars = {}
  for i = 1, 16 do
    local at = math.random(1, #alphabet)
    chars[i] = alphabet:sub(at, at)
  end
  return "----WebKitFormBoundary" .. table.concat(chars)
end

function request()
  n = n + 1
  if key == nil or n % 5 ~= 0 then
    key = run .. "-" .. id .. "-" .. n
    table.insert(sent, key)
  end
  local browser = browsers[(n % #browsers) + 1]
  local b = boundary()
  local parts = {}
  for name, value in pairs(fields) do
    parts[#parts + 1] = "--" .. b .. '\r\nContent-Disposition: form-data; name="' .. name .. '"\r\n\r\n' .. value .. "\r\n"
  end
  parts[#parts + 1] = "--" .. b .. '\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n' .. browser.token .. "\r\n"
  parts[#parts + 1] = "--" .. b .. '\r\nContent-Disposition: form-data; name="idempotency_key"\r\n\r\n' .. key .. "\r\n"
  parts[#parts + 1] = "--" .. b
    .. '\r\nContent-Disposition: form-data; name="material_premises"; filename="lease.pdf"\r\n'
    .. "Content-Type: application/pdf\r\n\r\n" .. pdf .. "\r\n"
  parts[#parts + 1] = "--" .. b .. "--\r\n"
  return wrk.format("POST", path, {
    ["Content-Type"] = "multipart/form-data; boundary=" .. b,
    ["Cookie"] = browser.cookie,
  }, table.concat(parts))
end

function response(status, headers, body)
  local location = headers["Location"] or headers["location"] or ""
  local number = location:match("/cases/(%d+)")
  if (status == 302 or status == 303) and number then
    table.insert(acked, number)
  else
    failed = failed + 1
  end
end

function done(summary, latency, requests)
  local out = os.getenv("BENCH_OUT")
  local keys, numbers = assert(io.open(out .. ".sent", "w")), assert(io.open(out .. ".acked", "w"))
  local not_acked = 0
  for _, thread in ipairs(threads) do
    for _, k in ipairs(thread:get("sent")) do
      keys:write(k, "\n")
    end
    for _, number in ipairs(thread:get("acked")) do
      numbers:write(number, "\n")
    end
    not_acked = not_acked + thread:get("failed")
  end
  keys:close()
  numbers:close()
  io.write(string.format("bench: %d answers, %d not acknowledged; latency p50 %.0f ms, p95 %.0f ms\n",
    summary.requests, not_acked, latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
