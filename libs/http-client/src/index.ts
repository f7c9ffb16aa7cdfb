export { HttpExchange, HttpNoAnswer, type HttpAnswer, type HttpExchangeOptions } from './http-exchange';
