-- Carries the activation requests kept by builds before the one-entry ledger (pac:, paca: and
-- rpl: keys) into the entries read now (act:), keeping each one's time to live, so that no
-- pending request and no stored answer is lost over an upgrade. The pacs: and pacm: indexes keep
-- their names. Run once per hub key prefix, before the new build serves traffic; running it again
-- changes nothing:
--   redis-cli --eval src/state/redis/upgradeLedger.lua , aidgw:
-- Answers {pending requests carried, stored answers carried}.
local prefix = ARGV[1]
local function each(pattern, visit)
  local cursor = '0'
  repeat
    local page = redis.call('SCAN', cursor, 'MATCH', prefix .. pattern, 'COUNT', 1000)
    cursor = page[1]
    for _, key in ipairs(page[2]) do visit(key) end
  until cursor == '0'
end
local pending, answers = 0, 0
each('pac:*', function(key)
  local id = string.sub(key, string.len(prefix) + 5)
  local raw, ttl = redis.call('GET', key), redis.call('TTL', key)
  if not raw or ttl <= 0 or redis.call('EXISTS', prefix .. 'act:' .. id) == 1 then return end
  local request = cjson.decode(raw)
  local entry = { fingerprint = '', state = 'open', pending = request, answered = redis.call('EXISTS', prefix .. 'paca:' .. id) == 1 }
  local replay = redis.call('GET', prefix .. 'rpl:' .. request.cmp .. ':' .. request.requestId)
  if replay then
    local stored = cjson.decode(replay)
    entry.fingerprint = stored.fingerprint
    if stored.answer then
      entry.answer = stored.answer
      entry.state = 'pending'
    end
  end
  if request.bridged then entry.state = 'bridged' end
  request.bridged = nil
  redis.call('SET', prefix .. 'act:' .. id, cjson.encode(entry), 'EX', ttl)
  pending = pending + 1
end)
each('rpl:*', function(key)
  local cmp, requestId = string.match(string.sub(key, string.len(prefix) + 5), '^([^:]+):(.+)$')
  local raw, ttl = redis.call('GET', key), redis.call('TTL', key)
  if not cmp or not raw or ttl <= 0 then return end
  local stored = cjson.decode(raw)
  local act = prefix .. 'act:' .. cmp .. ' ' .. requestId
  if not stored.answer or redis.call('EXISTS', act) == 1 then return end
  local request = { requestId = requestId, cmp = cmp, msp = '', mspToken = '', correlationId = '', createdAt = 0 }
  redis.call('SET', act, cjson.encode({ fingerprint = stored.fingerprint, state = 'done', answer = stored.answer, pending = request }), 'EX', ttl)
  answers = answers + 1
end)
return { pending, answers }
