# The loop-station worker (docker-compose.yml service loop-station-worker).
# Full Debian image, not -slim: loops run evidence commands and agents that expect git, curl,
# python3 and a C toolchain. Agent CLIs (codex, claude, …) are not included: extend this image
# with the ones your loops use.
FROM node:20-bookworm

WORKDIR /app
ENV NODE_ENV=production

# Dependencies first, so a source change does not reinstall them.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY . .

# Agent CLIs refuse to skip their permission prompts as root: run as the image's `node` user (uid 1000).
RUN mkdir -p /loops && chown node:node /loops
USER node

CMD ["node", "bin/loop-station.mjs", "worker", "--allow-root", "/loops"]
