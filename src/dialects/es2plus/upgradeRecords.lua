-- Copies an ES2+ operator's profiles kept by builds before the dialect seam (es2p:, es2s:, es2r:
-- keys) into the record store they are read from now (rec:, rix:), keeping each record's time to
-- live. Run once per hub key prefix, before or after the upgrade; running it again changes nothing:
--   redis-cli --eval src/dialects/es2plus/upgradeRecords.lua , aidgw:
-- Answers the number of profiles copied.
local prefix = ARGV[1]
local copied = 0
local cursor = '0'
repeat
  local page = redis.call('SCAN', cursor, 'MATCH', prefix .. 'es2p:*', 'COUNT', 1000)
  cursor = page[1]
  for _, key in ipairs(page[2]) do
    local ttl = redis.call('TTL', key)
    local value = redis.call('GET', key)
    if value and ttl > 0 then
      local profile = cjson.decode(value)
      local namespace = profile['msp'] .. ' '
      redis.call('SET', prefix .. 'rec:' .. namespace .. profile['iccid'], value, 'EX', ttl)
      for index, indexKey in pairs({ subscription = profile['mspToken'], request = profile['activationCodeRequestId'] }) do
        local set = prefix .. 'rix:' .. namespace .. index .. ' ' .. indexKey
        redis.call('SADD', set, profile['iccid'])
        if redis.call('TTL', set) < ttl then redis.call('EXPIRE', set, ttl) end
      end
      copied = copied + 1
    end
  end
until cursor == '0'
return copied
