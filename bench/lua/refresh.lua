-- Refresh with rotation: each thread owns one connection and one token chain; every answer carries the next
-- refresh token, which the next request uses (a rotated-out token would be refused as reuse).
dofile(os.getenv("BENCH_LUA") .. "/common.lua")
local tokens = {}
for line in io.lines(os.getenv("BENCH_TOKENS")) do tokens[#tokens + 1] = line end
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("token", tokens[counter])
end

function request()
  return wrk.format("POST", nil, {["Authorization"] = os.getenv("BENCH_BASIC"),
    ["Content-Type"] = "application/x-www-form-urlencoded"}, "grant_type=refresh_token&refresh_token=" .. token)
end

function on_response(status, body)
  local next_token = body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if next_token then token = next_token end
end
