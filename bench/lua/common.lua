-- Shared by every scenario: count non-2xx answers, print one JSON line with the numbers run.py reads.
bad = 0
function response(status, headers, body)
  if status < 200 or status > 299 then bad = bad + 1 end
  if on_response then on_response(status, body) end
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('{"requests": %d, "seconds": %.3f, "p50_ms": %.3f, "p95_ms": %.3f, "errors": %d, "non2xx": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    errors, summary.errors.status))
end
