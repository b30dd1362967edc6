# n! = 1 * 2 * ... * n
def factorial(n)
  (1..n).reduce(1, :*)
end

def prime?(n)
  return false if n < 2

  (2..Math.sqrt(n)).none? { |d| (n % d).zero? }
end

def greet(name, greeting = "Hello")
  "#{greeting}, #{name}!"
end

puts "5! = #{factorial(5)}"
puts "Primes below 30: #{(0...30).select { |n| prime?(n) }.join(' ')}"
puts greet("Ada")
puts greet("Alan", "Welcome")
