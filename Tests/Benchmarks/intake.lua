-- wrk script for `make bench`: every request is a new, uniquely numbered
-- order.confirmed event, signed the way the order system signs (Standard
-- Webhooks, HMAC-SHA256 through libcrypto over LuaJIT's FFI). Each thread
-- drives one connection and stops after its share of events; it writes its
-- first-request and last-response wall times, so the harness computes the
-- rate over exactly the events sent.
--
-- wrk -t C -c C -s intake.lua URL -- EVENTS_PER_THREAD TEMPLATE_FILE KEY_HEX RUN_ID OUT_DIR

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_usec; } flexpost_timeval;
int gettimeofday(flexpost_timeval *tv, void *tz);
const void *EVP_sha256(void);
unsigned char *HMAC(const void *md, const void *key, int key_len, const unsigned char *d, size_t n,
                    unsigned char *out, unsigned int *out_len);
int EVP_EncodeBlock(unsigned char *t, const unsigned char *f, int n);
]]
local crypto = ffi.load("libcrypto.so.3")

local function now()
  local tv = ffi.new("flexpost_timeval")
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) + tonumber(tv.tv_usec) / 1e6
end

local threads = {}
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

local total, template, key, run_id, out_dir
local sent, answered, first_at = 0, 0, nil
local mac = ffi.new("unsigned char[32]")
local mac_len = ffi.new("unsigned int[1]")
local b64 = ffi.new("unsigned char[64]")
local statuses = {}

function init(args)
  total = tonumber(args[1])
  local f = assert(io.open(args[2], "rb"))
  template = f:read("*a")
  f:close()
  key = (args[3]:gsub("..", function(h) return string.char(tonumber(h, 16)) end))
  run_id = args[4]
  out_dir = args[5]
end

function request()
  if sent >= total then
    return wrk.format("GET", "/healthz")
  end
  sent = sent + 1
  if first_at == nil then first_at = now() end
  local n = string.format("%s-%d-%07d", run_id, index, sent)
  local body = template:gsub("{{N}}", n)
  local ts = tostring(math.floor(now()))
  local id = "msg_" .. n
  local signed = id .. "." .. ts .. "." .. body
  crypto.HMAC(crypto.EVP_sha256(), key, #key, signed, #signed, mac, mac_len)
  local len = crypto.EVP_EncodeBlock(b64, mac, 32)
  local headers = {
    ["content-type"] = "application/json",
    ["webhook-id"] = id,
    ["webhook-timestamp"] = ts,
    ["webhook-signature"] = "v1," .. ffi.string(b64, len),
  }
  return wrk.format("POST", "/v1/events", headers, body)
end

function response(status, headers, body)
  answered = answered + 1
  statuses[status] = (statuses[status] or 0) + 1
  if answered == total then
    local f = assert(io.open(string.format("%s/thread-%d.done", out_dir, index), "w"))
    local parts = {}
    for code, n in pairs(statuses) do table.insert(parts, code .. "=" .. n) end
    f:write(string.format("%.6f %.6f %s\n", first_at, now(), table.concat(parts, ",")))
    f:close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  io.write(string.format("LATENCY_US p50=%d p99=%d max=%d count=%d\n",
    latency:percentile(50), latency:percentile(99), latency.max, summary.requests))
end
