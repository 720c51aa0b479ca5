# The Ringway gateway (and the softphone page it serves), built from this repository.
FROM node:20-bookworm-slim
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/sdp/package.json packages/sdp/
COPY packages/softphone/package.json packages/softphone/
COPY packages/gateway/package.json packages/gateway/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build
EXPOSE 8080
CMD ["node", "--max-semi-space-size=2", "--enable-source-maps", "packages/gateway/dist/gateway.mjs"]
